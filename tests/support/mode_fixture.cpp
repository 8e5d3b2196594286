#include "support/mode_fixture.hpp"

#include "common/crypto/crypto.hpp"
#include "common/crypto/keys.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <vector>

namespace test {

mode_fixture::mode_fixture(std::map<std::string, std::string> extra)
    : mode_fixture(std::move(extra), false)
{
}

mode_fixture::mode_fixture(std::map<std::string, std::string> extra, bool via_relay)
    : sim(start_mode_sim({{"MODESIM_LOG_LEVEL", "warn"}}))
    , relay(via_relay ? std::make_unique<tcp_relay>("127.0.0.1", sim.port) : nullptr)
    , gw(start_gateway(db.url(), relay ? relay->rewrite_url(sim.base_url()) : sim.base_url(), std::move(extra)))
{
}

std::pair<std::string, std::string> mode_fixture::user(const std::string& who)
{
    auto email = unique_email(who);
    auto token = verified_login(gw, email);
    return {email, token};
}

std::int64_t mode_fixture::mode_id(const std::string& token)
{
    auto me = get_with(gw, "/v1/me", token);
    BOOST_REQUIRE_MESSAGE(me.status == 200U, me);
    return me.json().at("user").at("mode").at("userId").as_int64();
}

http_result mode_fixture::call(http::verb method, const std::string& path, const std::string& token, std::string body)
{
    header_list headers;
    if (!token.empty())
        headers.emplace_back("Authorization", "Bearer " + token);
    return http_call(gw.port, method, path, std::move(body), headers);
}

std::int64_t mode_fixture::create_home(const std::string& token, const std::string& name)
{
    auto r = call(http::verb::post, "/v1/homes", token, json::serialize(json::object{{"name", name}}));
    BOOST_REQUIRE_MESSAGE(r.status == 201U, r);
    return r.json().at("id").as_int64();
}

mode_fixture::device mode_fixture::claimable_device(const std::string& device_class)
{
    auto r = sim_call(http::verb::post, "/_sim/devices", json::serialize(json::object{{"deviceClass", device_class}}));
    BOOST_REQUIRE_MESSAGE(r.status == 201U, r);
    device d;
    d.id = r.json().at("id").as_int64();
    d.key = std::string(r.json().at("apiKey").as_string());
    d.claim_code = std::string(r.json().at("claimCode").as_string());
    auto reg = sim_call(http::verb::post, "/deviceRegistration",
                        json::serialize(json::object{{"claimable", true}, {"duration", 600}}),
                        {{"Authorization", "ModeCloud " + d.key}});
    BOOST_REQUIRE_MESSAGE(reg.status == 200U, reg);
    return d;
}

void mode_fixture::add_fault(json::object fault)
{
    auto r = sim_call(http::verb::post, "/_sim/faults", json::serialize(fault));
    BOOST_REQUIRE_MESSAGE(r.status == 204U, r);
}

void mode_fixture::clear_faults()
{
    BOOST_REQUIRE_EQUAL(sim_call(http::verb::delete_, "/_sim/faults").status, 204U);
}

http_result mode_fixture::sim_call(http::verb method, const std::string& path, std::string body, header_list headers)
{
    return http_call(sim.port, method, path, std::move(body), std::move(headers));
}

http_result mode_fixture::project_call(http::verb method, const std::string& path, std::string body)
{
    return sim_call(method, path, std::move(body), {{"Authorization", "ModeCloud sim-project-key"}});
}

std::string mode_fixture::stored_mode_key(const std::string& email)
{
    pqxx::connection c(db.url());
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params1("SELECT id::text, mode_user_key FROM users WHERE email_normalized = lower($1)", email);
    auto key = common::crypto::sealed_text(*common::crypto::base64_decode(gw.env.at("MB_SECRET_KEY")))
                   .open(r[1].as<std::string>(), r[0].as<std::string>());
    BOOST_REQUIRE(key.has_value());
    return *key;
}

bool has_home(mode_fixture& f, const std::string& token, std::int64_t home)
{
    auto r = f.call(http::verb::get, "/v1/homes", token);
    BOOST_REQUIRE_MESSAGE(r.status == 200U, r);
    auto homes = r.json();
    for (const auto& h : homes.as_array())
        if (h.at("id").as_int64() == home)
            return true;
    return false;
}

std::string members_of(mode_fixture& f, const std::string& token, std::int64_t home)
{
    auto describe = [](const json::array& list) {
        std::vector<std::string> out;
        for (const auto& m : list)
            out.push_back(std::to_string(m.at("userId").as_int64()) + ":" + std::string(m.at("role").as_string()));
        std::sort(out.begin(), out.end());
        std::string s;
        for (const auto& e : out)
            s += e + " ";
        return s;
    };
    // Our rows first: the gateway's list below brings them in line with MODE's, which would hide a stray one.
    int rows = 0;
    {
        pqxx::connection c(f.db.url());
        pqxx::read_transaction tx(c);
        rows = tx.exec_params1("SELECT count(*) FROM home_members WHERE home_id = $1", home)[0].as<int>();
    }
    auto path = "/homes/" + std::to_string(home) + "/members";
    auto mode = f.project_call(http::verb::get, path);
    BOOST_REQUIRE_MESSAGE(mode.status == 200U, mode);
    auto gw = f.call(http::verb::get, "/v1" + path, token);
    BOOST_REQUIRE_MESSAGE(gw.status == 200U, gw);
    return "gateway: " + describe(gw.json().as_array()) + "| MODE: " + describe(mode.json().as_array()) +
           "| rows: " + std::to_string(rows);
}

int db_count(const std::string& db_url, const std::string& sql, const std::string& arg)
{
    pqxx::connection c(db_url);
    pqxx::read_transaction tx(c);
    return tx.exec_params1(sql, arg)[0].as<int>();
}

} // namespace test
