#pragma once

// What the fault suite counts once the traffic has stopped: per fault, the events acknowledged, stored,
// delivered, lost and doubled, the requests refused, and how long the deployment took to recover; printed as
// the table docs/reliability.md carries.

#include "fault_traffic.hpp"

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace faults {

/** One member's stream: the home it must see and the seqs it received, in order, across reconnections. */
struct stream_record
{
    std::int64_t home = 0;
    std::vector<std::int64_t> seqs;
};

/** One stored event row: its seq, home and the `n` of its eventData. */
struct stored_event
{
    std::int64_t seq = 0;
    std::int64_t home = 0;
    std::int64_t n = 0;
};

/** One row of the table. */
struct fault_row
{
    std::string fault;
    double seconds = 0;  // how long the phase ran, fault and recovery included
    double recovery = 0; // from the part's return (restart, thaw) until every service was whole again
    int sent = 0;        // events first sent during the phase
    int acked = 0;
    int stored = 0;      // of those, stored (each once)
    int delivered = 0;   // (event, member stream) pairs received
    int lost = 0;        // acknowledged, never received by a member's stream
    int doubled = 0;     // received twice by one stream, or stored twice
    request_counts requests;
};

/** Reads every stored event of the suite's type from the database at `url`. */
std::vector<stored_event> read_stored(const std::string& url);

/** Fills the event and request columns of `rows` (row i is phase i) from the book, the stored events and
    the streams; every event of a home is owed to each member stream of that home. */
void tally(std::vector<fault_row>& rows, const traffic_book& book, const std::vector<stored_event>& stored,
           const std::vector<stream_record>& streams);

/** The table, in Markdown. */
void print_table(std::ostream& os, const std::vector<fault_row>& rows);

} // namespace faults
