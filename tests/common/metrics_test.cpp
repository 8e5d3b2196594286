#include "common/metrics.hpp"

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace m = common::metrics;

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

bool has_line(const std::string& text, const std::string& line)
{
    for (const auto& l : lines_of(text))
        if (l == line)
            return true;
    return false;
}

/** The value of the sample line whose name-and-labels part is exactly `series`. */
std::string sample(const std::string& text, const std::string& series)
{
    for (const auto& l : lines_of(text))
        if (l.size() > series.size() && l.compare(0, series.size(), series) == 0 && l[series.size()] == ' ')
            return l.substr(series.size() + 1);
    BOOST_FAIL("no sample " << series << " in:\n" << text);
    return {};
}

/**
 * A small checker of the Prometheus text format (version 0.0.4): every line is a HELP, a TYPE or a
 * sample; each family has one HELP and one TYPE before its samples; label values are quoted with only
 * \\, \" and \n escapes; values parse as numbers.
 */
void check_exposition(const std::string& text)
{
    BOOST_REQUIRE(!text.empty());
    BOOST_TEST(text.back() == '\n');
    std::map<std::string, std::string> types;
    std::string current;
    for (const auto& l : lines_of(text)) {
        BOOST_TEST_CONTEXT("line '" << l << "'")
        {
            BOOST_REQUIRE(!l.empty());
            if (l.rfind("# HELP ", 0) == 0) {
                auto rest = l.substr(7);
                current = rest.substr(0, rest.find(' '));
                continue;
            }
            if (l.rfind("# TYPE ", 0) == 0) {
                auto rest = l.substr(7);
                auto sp = rest.find(' ');
                BOOST_REQUIRE(sp != std::string::npos);
                auto name = rest.substr(0, sp);
                auto type = rest.substr(sp + 1);
                BOOST_TEST(name == current, "TYPE follows its HELP");
                BOOST_TEST(!types.count(name), "one TYPE per family");
                BOOST_TEST((type == "counter" || type == "gauge" || type == "histogram"));
                types[name] = type;
                continue;
            }
            BOOST_REQUIRE(l.front() != '#');
            // metric name
            std::size_t i = 0;
            while (i < l.size() && (std::isalnum(static_cast<unsigned char>(l[i])) || l[i] == '_' || l[i] == ':'))
                ++i;
            std::string name = l.substr(0, i);
            BOOST_REQUIRE(!name.empty());
            std::string family = name;
            for (std::string suffix : {"_bucket", "_sum", "_count"})
                if (!types.count(family) && family.size() > suffix.size() &&
                    family.compare(family.size() - suffix.size(), suffix.size(), suffix) == 0)
                    family = family.substr(0, family.size() - suffix.size());
            BOOST_TEST(family == current, "sample " << name << " belongs to the family last announced");
            if (i < l.size() && l[i] == '{') {
                ++i;
                while (i < l.size() && l[i] != '}') {
                    auto eq = l.find('=', i);
                    BOOST_REQUIRE(eq != std::string::npos);
                    BOOST_REQUIRE(eq + 1 < l.size());
                    BOOST_REQUIRE(l[eq + 1] == '"');
                    i = eq + 2;
                    for (;;) {
                        BOOST_REQUIRE(i < l.size());
                        if (l[i] == '\\') {
                            BOOST_REQUIRE(i + 1 < l.size());
                            BOOST_TEST((l[i + 1] == '\\' || l[i + 1] == '"' || l[i + 1] == 'n'), "valid escape");
                            i += 2;
                            continue;
                        }
                        if (l[i] == '"')
                            break;
                        ++i;
                    }
                    ++i;
                    if (i < l.size() && l[i] == ',')
                        ++i;
                }
                BOOST_REQUIRE(i < l.size());
                ++i; // '}'
            }
            BOOST_REQUIRE(i < l.size());
            BOOST_REQUIRE(l[i] == ' ');
            std::string value = l.substr(i + 1);
            if (value != "+Inf" && value != "-Inf" && value != "NaN") {
                std::size_t used = 0;
                (void)std::stod(value, &used);
                BOOST_TEST(used == value.size(), "value '" << value << "' is a number");
            }
        }
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(counter_gauge_histogram_values)
{
    m::registry r;
    auto& c = r.counter_for("mb_things_total", "Things");
    c.inc();
    c.inc(41);
    BOOST_TEST(c.value() == 42U);

    auto& g = r.gauge_for("mb_level", "Level");
    g.set(10);
    g.add(-3);
    g.add(5);
    BOOST_TEST(g.value() == 12);

    auto& h = r.histogram_for("mb_latency_seconds", "Latency", {}, {0.1, 0.5, 1.0});
    for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0})
        h.observe(v);
    BOOST_TEST(h.count() == 6U);
    BOOST_TEST(std::abs(h.sum() - 6.15) < 1e-6);
    BOOST_TEST(h.bucket_count(0) == 2U); // 0.05 and 0.1 (bounds are inclusive)
    BOOST_TEST(h.bucket_count(1) == 1U); // 0.3
    BOOST_TEST(h.bucket_count(2) == 1U); // 0.7
    BOOST_TEST(h.bucket_count(3) == 2U); // +Inf
}

BOOST_AUTO_TEST_CASE(counters_are_safe_from_many_threads)
{
    m::registry r;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&r] {
            for (int i = 0; i < 10'000; ++i)
                r.counter_for("mb_hits_total", "Hits", {{"k", "v"}}).inc();
        });
    for (auto& t : threads)
        t.join();
    BOOST_TEST(r.counter_for("mb_hits_total", "Hits", {{"k", "v"}}).value() == 40'000U);
}

BOOST_AUTO_TEST_CASE(same_name_and_labels_is_the_same_object)
{
    m::registry r;
    auto& a = r.counter_for("mb_req_total", "Requests", {{"route", "/a"}});
    auto& a2 = r.counter_for("mb_req_total", "Requests", {{"route", "/a"}});
    auto& b = r.counter_for("mb_req_total", "Requests", {{"route", "/b"}});
    auto& none = r.counter_for("mb_req_total", "Requests");
    BOOST_TEST(&a == &a2);
    BOOST_TEST(&a != &b);
    BOOST_TEST(&a != &none);
    BOOST_TEST(&r.gauge_for("mb_g", "G", {{"x", "1"}}) == &r.gauge_for("mb_g", "G", {{"x", "1"}}));
    BOOST_TEST(&r.histogram_for("mb_h", "H", {{"x", "1"}}) == &r.histogram_for("mb_h", "H", {{"x", "1"}}));
    a.inc(3);
    BOOST_TEST(a2.value() == 3U);
    BOOST_TEST(b.value() == 0U);
}

BOOST_AUTO_TEST_CASE(registering_a_name_with_two_types_throws)
{
    m::registry r;
    (void)r.counter_for("mb_x", "X");
    BOOST_CHECK_THROW((void)r.gauge_for("mb_x", "X"), std::logic_error);
    BOOST_CHECK_THROW((void)r.histogram_for("mb_x", "X"), std::logic_error);
    BOOST_CHECK_THROW(r.add_callback_gauge("mb_x", "X", [] { return 1.0; }), std::logic_error);
    (void)r.gauge_for("mb_y", "Y");
    BOOST_CHECK_THROW((void)r.counter_for("mb_y", "Y"), std::logic_error);
    // The registry still renders what it has.
    check_exposition(r.render());
}

BOOST_AUTO_TEST_CASE(render_is_prometheus_text_with_escaped_labels)
{
    m::registry r;
    r.counter_for("mb_http_requests_total", "HTTP requests answered",
                  {{"method", "GET"}, {"route", "/v1/homes/{homeId}"}, {"status", "200"}})
        .inc(5);
    r.counter_for("mb_odd_total", "Odd labels", {{"v", "quote\" backslash\\ newline\n end"}}).inc();
    r.gauge_for("mb_open", "Open things").set(-4);
    auto text = r.render();
    check_exposition(text);

    BOOST_TEST(has_line(text, "# HELP mb_http_requests_total HTTP requests answered"));
    BOOST_TEST(has_line(text, "# TYPE mb_http_requests_total counter"));
    BOOST_TEST(sample(text, R"(mb_http_requests_total{method="GET",route="/v1/homes/{homeId}",status="200"})") == "5");
    BOOST_TEST(sample(text, R"(mb_odd_total{v="quote\" backslash\\ newline\n end"})") == "1");
    BOOST_TEST(has_line(text, "# TYPE mb_open gauge"));
    BOOST_TEST(sample(text, "mb_open") == "-4");
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative_and_end_in_inf)
{
    m::registry r;
    auto& h = r.histogram_for("mb_dur_seconds", "Durations", {{"route", "/x"}}, {0.1, 0.5, 1.0});
    for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 3.0})
        h.observe(v);
    auto text = r.render();
    check_exposition(text);
    BOOST_TEST(has_line(text, "# TYPE mb_dur_seconds histogram"));
    BOOST_TEST(sample(text, R"(mb_dur_seconds_bucket{route="/x",le="0.1"})") == "2");
    BOOST_TEST(sample(text, R"(mb_dur_seconds_bucket{route="/x",le="0.5"})") == "3");
    BOOST_TEST(sample(text, R"(mb_dur_seconds_bucket{route="/x",le="1"})") == "4");
    BOOST_TEST(sample(text, R"(mb_dur_seconds_bucket{route="/x",le="+Inf"})") == "6");
    BOOST_TEST(sample(text, R"(mb_dur_seconds_count{route="/x"})") == "6");
    BOOST_TEST(std::abs(std::stod(sample(text, R"(mb_dur_seconds_sum{route="/x"})")) - 6.15) < 1e-6);

    // Without labels the le label stands alone; the default buckets end in +Inf too.
    auto& d = r.histogram_for("mb_default_seconds", "Default buckets");
    d.observe(0.002);
    text = r.render();
    check_exposition(text);
    BOOST_TEST(sample(text, R"(mb_default_seconds_bucket{le="+Inf"})") == "1");
    BOOST_TEST(sample(text, R"(mb_default_seconds_bucket{le="0.0025"})") == "1");
    BOOST_TEST(sample(text, R"(mb_default_seconds_bucket{le="0.001"})") == "0");
    BOOST_TEST(sample(text, "mb_default_seconds_count") == "1");
}

BOOST_AUTO_TEST_CASE(unsorted_bounds_are_rejected_and_leave_the_registry_usable)
{
    m::registry r;
    BOOST_CHECK_THROW((void)r.histogram_for("mb_bad_seconds", "Bad", {}, {1.0, 0.5}), std::invalid_argument);
    // The failed registration must not leave a hole that render() trips over.
    check_exposition(r.render());
    auto& h = r.histogram_for("mb_bad_seconds", "Bad", {}, {0.5, 1.0});
    h.observe(0.7);
    auto text = r.render();
    check_exposition(text);
    BOOST_TEST(sample(text, "mb_bad_seconds_count") == "1");
}

BOOST_AUTO_TEST_CASE(callback_gauge_is_read_at_render_time)
{
    m::registry r;
    double level = 3;
    r.add_callback_gauge("mb_pool_idle", "Idle pool connections", [&level] { return level; });
    auto text = r.render();
    check_exposition(text);
    BOOST_TEST(has_line(text, "# TYPE mb_pool_idle gauge"));
    BOOST_TEST(sample(text, "mb_pool_idle") == "3");
    level = 7.5;
    BOOST_TEST(sample(r.render(), "mb_pool_idle") == "7.5");
}

BOOST_AUTO_TEST_SUITE_END()
