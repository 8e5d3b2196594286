#include "sim_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdlib>
#include <future>

namespace modesim_test {

using namespace std::chrono_literals;

modesim::settings test_settings(std::size_t threads)
{
    modesim::settings s;
    s.listen = {net::ip::make_address("127.0.0.1"), 0};
    s.project_id = project_id;
    s.project_key = byou_key;
    s.plain_project_key = plain_key;
    s.threads = threads;
    return s;
}

std::string error_of(const std::function<void()>& f)
{
    try {
        f();
    } catch (const modesim::sim_error& e) {
        return std::to_string(static_cast<unsigned>(e.status())) + " " + e.reason();
    }
    return "no error";
}

std::string error_of(const http_result& r)
{
    std::string out = std::to_string(r.status);
    try {
        auto v = r.json();
        if (v.is_object())
            if (const auto* reason = v.as_object().if_contains("reason"); reason && reason->is_string())
                out += " " + std::string(reason->get_string());
    } catch (const std::exception&) {
        // Not JSON: the status alone tells the story.
    }
    return out;
}

namespace {

// Request lines would drown the test output; MODESIM_TEST_LOG=debug|info brings them back.
modesim::settings logged(modesim::settings s)
{
    const char* level = std::getenv("MODESIM_TEST_LOG");
    common::log::init("mode-sim", common::log::parse_level(level != nullptr ? level : "warn"));
    return s;
}

} // namespace

running_sim::running_sim(std::size_t threads)
    : running_sim(test_settings(threads))
{
}

running_sim::running_sim(modesim::settings s)
    : work_(net::make_work_guard(ioc_))
    , app_(std::make_unique<modesim::app>(ioc_, logged(std::move(s))))
{
    app_->start();
    port_ = app_->local_endpoint().port();
    for (std::size_t i = 0; i < app_->config().threads; ++i)
        threads_.emplace_back([this] { ioc_.run(); });
}

running_sim::~running_sim()
{
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    net::co_spawn(ioc_, app_->shutdown(1s), [done](std::exception_ptr) { done->set_value(); });
    // Bounded: a stuck shutdown must not hang the test run.
    finished.wait_for(5s);
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
        t.join();
}

http_result running_sim::call(http::verb method, const std::string& target, const std::string& body,
                              const std::string& key, test::header_list headers) const
{
    if (!key.empty())
        headers.emplace_back("Authorization", "ModeCloud " + key);
    return test::http_call(port_, method, target, body, std::move(headers), 10s);
}

http_result running_sim::call(http::verb method, const std::string& target, const boost::json::object& body,
                              const std::string& key) const
{
    return call(method, target, boost::json::serialize(body), key);
}

std::int64_t running_sim::create_user(const std::string& name)
{
    auto r = call(http::verb::post, "/users", boost::json::object{{"projectId", project_id}, {"name", name}}, byou_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    return r.json().at("id").as_int64();
}

std::string running_sim::user_key(std::int64_t user_id)
{
    auto r = call(http::verb::post, "/auth/user",
                  "projectId=" + std::to_string(project_id) + "&userId=" + std::to_string(user_id), byou_key,
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_REQUIRE_MESSAGE(r.status == 200, r);
    return std::string(r.json().at("token").as_string());
}

std::int64_t running_sim::create_home(const std::string& user_key, const std::string& name)
{
    auto r = call(http::verb::post, "/homes", boost::json::object{{"name", name}}, user_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    return r.json().at("id").as_int64();
}

boost::json::object running_sim::provision_device(const std::string& device_class)
{
    auto r = call(http::verb::post, "/_sim/devices", boost::json::object{{"deviceClass", device_class}}, "");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
    return r.json().as_object();
}

void running_sim::claim(const boost::json::object& device, std::int64_t home_id, const std::string& user_key)
{
    std::string device_key(device.at("apiKey").as_string());
    auto reg = call(http::verb::post, "/deviceRegistration", boost::json::object{{"claimable", true}}, device_key);
    BOOST_REQUIRE_MESSAGE(reg.status == 200, reg);
    auto r = call(http::verb::post, "/devices",
                  boost::json::object{{"homeId", home_id}, {"claimCode", device.at("claimCode")}}, user_key);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r);
}

void running_sim::emit_event(const boost::json::object& device, const boost::json::object& event)
{
    auto r = call(http::verb::put, "/devices/" + std::to_string(device.at("id").as_int64()) + "/event", event,
                  std::string(device.at("apiKey").as_string()));
    BOOST_REQUIRE_MESSAGE(r.status == 204, r);
}

} // namespace modesim_test
