#pragma once

// The Prometheus text exposition (what GET /metrics answers) parsed, for tests that read a service's
// numbers and check the format itself.

#include <map>
#include <string>
#include <vector>

namespace test {

using metric_labels = std::map<std::string, std::string>;

struct prom_sample
{
    std::string name; // as written: a histogram's samples end in _bucket, _sum or _count
    metric_labels labels;
    double value = 0;
};

struct exposition
{
    std::map<std::string, std::string> types; // family → counter, gauge, histogram, ...
    std::vector<prom_sample> samples;
    std::vector<std::string> errors; // lines that do not parse, duplicate TYPE lines

    /** The sum of the samples named `name` whose labels include every one of `match` (0 when none). */
    double sum(const std::string& name, const metric_labels& match = {}) const;
    /** How many samples are named `name` and carry every label of `match`. */
    std::size_t count(const std::string& name, const metric_labels& match = {}) const;
};

/** Parses `text`; what does not parse lands in `errors` rather than throwing. */
exposition parse_exposition(const std::string& text);

/**
 * What is wrong with the exposition as Prometheus reads it, one line per problem (empty: well-formed):
 * parse errors; samples whose family has no TYPE line; histograms whose buckets per label set are not
 * cumulative, do not end with le="+Inf", or whose +Inf bucket differs from its _count.
 */
std::vector<std::string> exposition_problems(const exposition& e);

/** GET /metrics of the service on 127.0.0.1:port (200 required), parsed. */
exposition scrape(unsigned short port);

} // namespace test
