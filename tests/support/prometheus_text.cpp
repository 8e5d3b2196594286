#include "support/prometheus_text.hpp"

#include "support/http_call.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <sstream>

namespace test {

namespace {

bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

// One sample line: name{k="v",...} value. False when it does not parse.
bool parse_sample(const std::string& line, prom_sample& out)
{
    std::size_t i = 0;
    while (i < line.size() && name_char(line[i], i == 0))
        ++i;
    if (i == 0)
        return false;
    out.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
            auto start = i;
            while (i < line.size() && name_char(line[i], i == start))
                ++i;
            if (i == start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
                return false;
            auto key = line.substr(start, i - start);
            i += 2;
            std::string value;
            for (; i < line.size() && line[i] != '"'; ++i) {
                if (line[i] == '\\') {
                    if (++i >= line.size())
                        return false;
                    value += line[i] == 'n' ? '\n' : line[i];
                } else {
                    value += line[i];
                }
            }
            if (i >= line.size() || out.labels.count(key) != 0)
                return false;
            out.labels[key] = value;
            ++i; // the closing quote
            if (i < line.size() && line[i] == ',')
                ++i;
        }
        if (i >= line.size())
            return false;
        ++i; // '}'
    }
    if (i >= line.size() || line[i] != ' ')
        return false;
    auto rest = line.substr(i + 1);
    if (rest == "+Inf")
        out.value = INFINITY;
    else if (rest == "-Inf")
        out.value = -INFINITY;
    else {
        std::size_t used = 0;
        try {
            out.value = std::stod(rest, &used);
        } catch (const std::exception&) {
            return false;
        }
        if (used != rest.size())
            return false;
    }
    return true;
}

bool matches(const prom_sample& s, const std::string& name, const metric_labels& match)
{
    if (s.name != name)
        return false;
    for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v)
            return false;
    }
    return true;
}

bool ends_with(const std::string& s, const std::string& tail)
{
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string describe(const std::string& name, const metric_labels& l)
{
    std::string out = name + "{";
    for (const auto& [k, v] : l)
        out += k + "=\"" + v + "\",";
    return out + "}";
}

} // namespace

double exposition::sum(const std::string& name, const metric_labels& match) const
{
    double total = 0;
    for (const auto& s : samples)
        if (matches(s, name, match))
            total += s.value;
    return total;
}

std::size_t exposition::count(const std::string& name, const metric_labels& match) const
{
    std::size_t n = 0;
    for (const auto& s : samples)
        n += matches(s, name, match) ? 1U : 0U;
    return n;
}

exposition parse_exposition(const std::string& text)
{
    exposition e;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty())
            continue;
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string family, type;
            words >> family >> type;
            if (family.empty() || type.empty() || !e.types.emplace(family, type).second)
                e.errors.push_back("bad or repeated TYPE line: " + line);
            continue;
        }
        if (line[0] == '#')
            continue; // HELP and comments
        prom_sample s;
        if (parse_sample(line, s))
            e.samples.push_back(std::move(s));
        else
            e.errors.push_back("unparsable line: " + line);
    }
    return e;
}

std::vector<std::string> exposition_problems(const exposition& e)
{
    std::vector<std::string> out = e.errors;
    // Each histogram's buckets in the order rendered, per label set without `le`.
    std::map<std::pair<std::string, metric_labels>, std::vector<std::pair<std::string, double>>> buckets;
    std::map<std::pair<std::string, metric_labels>, double> counts;
    for (const auto& s : e.samples) {
        std::string family = s.name;
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
            if (ends_with(s.name, suffix)) {
                auto base = s.name.substr(0, s.name.size() - std::string(suffix).size());
                auto t = e.types.find(base);
                if (t != e.types.end() && t->second == "histogram")
                    family = base;
            }
        }
        auto t = e.types.find(family);
        if (t == e.types.end()) {
            out.push_back("no TYPE line for " + s.name);
            continue;
        }
        if (t->second != "histogram")
            continue;
        auto labels = s.labels;
        if (ends_with(s.name, "_bucket")) {
            auto le = labels.find("le");
            if (le == labels.end()) {
                out.push_back("a bucket without le: " + describe(s.name, s.labels));
                continue;
            }
            auto bound = le->second;
            labels.erase(le);
            buckets[{family, labels}].emplace_back(bound, s.value);
        } else if (ends_with(s.name, "_count")) {
            counts[{family, labels}] = s.value;
        }
    }
    for (const auto& [key, list] : buckets) {
        auto what = describe(key.first, key.second);
        for (std::size_t i = 1; i < list.size(); ++i)
            if (list[i].second < list[i - 1].second || std::stod(list[i].first) <= std::stod(list[i - 1].first))
                out.push_back(what + ": buckets not cumulative at le=" + list[i].first);
        if (list.empty() || list.back().first != "+Inf")
            out.push_back(what + ": the last bucket is not le=\"+Inf\"");
        auto c = counts.find(key);
        if (c == counts.end())
            out.push_back(what + ": no _count");
        else if (!list.empty() && list.back().second != c->second)
            out.push_back(what + ": +Inf bucket differs from _count");
    }
    return out;
}

exposition scrape(unsigned short port)
{
    auto r = http_call(port, http::verb::get, "/metrics");
    BOOST_REQUIRE_MESSAGE(r.status == 200U, "GET /metrics: " << r);
    return parse_exposition(r.body);
}

} // namespace test
