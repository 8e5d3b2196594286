#include "fault_tally.hpp"

#include <boost/json/parse.hpp>

#include <pqxx/pqxx>

#include <iomanip>
#include <set>

namespace faults {

std::vector<stored_event> read_stored(const std::string& url)
{
    std::vector<stored_event> out;
    pqxx::connection c(url);
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec("SELECT seq, home_id, payload FROM events WHERE event_type = 'fault-suite' ORDER BY seq")) {
        auto payload = boost::json::parse(row[2].as<std::string>());
        out.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(),
                       payload.at("eventData").at("n").as_int64()});
    }
    return out;
}

void tally(std::vector<fault_row>& rows, const traffic_book& book, const std::vector<stored_event>& stored,
           const std::vector<stream_record>& streams)
{
    const auto events = book.events();
    auto row_of = [&](std::int64_t n) -> fault_row* {
        auto it = events.find(n);
        if (it == events.end() || it->second.phase < 0 || static_cast<std::size_t>(it->second.phase) >= rows.size())
            return nullptr;
        return &rows[static_cast<std::size_t>(it->second.phase)];
    };
    for (const auto& [n, e] : events)
        if (auto* r = row_of(n)) {
            ++r->sent;
            r->acked += e.acked ? 1 : 0;
        }

    std::map<std::int64_t, int> rows_of_n;
    std::map<std::int64_t, std::int64_t> n_of_seq;
    for (const auto& s : stored) {
        ++rows_of_n[s.n];
        n_of_seq[s.seq] = s.n;
    }
    for (const auto& [n, count] : rows_of_n)
        if (auto* r = row_of(n)) {
            ++r->stored;
            r->doubled += count - 1;
        }

    for (const auto& stream : streams) {
        std::map<std::int64_t, int> times;
        for (auto seq : stream.seqs)
            if (auto it = n_of_seq.find(seq); it != n_of_seq.end())
                ++times[it->second];
        for (const auto& [n, e] : events) {
            if (e.home != stream.home)
                continue;
            auto* r = row_of(n);
            if (r == nullptr)
                continue;
            auto got = times.count(n) != 0U ? times[n] : 0;
            r->delivered += got > 0 ? 1 : 0;
            r->doubled += got > 1 ? got - 1 : 0;
            r->lost += (e.acked && got == 0) ? 1 : 0;
        }
    }

    for (const auto& [phase, counts] : book.requests())
        if (phase >= 0 && static_cast<std::size_t>(phase) < rows.size())
            rows[static_cast<std::size_t>(phase)].requests = counts;
}

void print_table(std::ostream& os, const std::vector<fault_row>& rows)
{
    os << "| fault | phase s | events sent | acked | stored | delivered | lost | doubled | requests | answered | "
          "refused 503/504 | gateway down | unanswered | other | slowest answer s | recovery s |\n"
       << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    os << std::fixed << std::setprecision(1);
    for (const auto& r : rows) {
        const auto& q = r.requests;
        os << "| " << r.fault << " | " << r.seconds << " | " << r.sent << " | " << r.acked << " | " << r.stored << " | "
           << r.delivered << " | " << r.lost << " | " << r.doubled << " | "
           << (q.answered + q.refused + q.down + q.unanswered + q.wrong) << " | " << q.answered << " | " << q.refused
           << " | " << q.down << " | " << q.unanswered << " | " << q.wrong << " | " << q.slowest << " | " << r.recovery
           << " |\n";
    }
}

} // namespace faults
