#include "support/account_flow.hpp"

#include "support/stack.hpp"

#include "common/crypto/crypto.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>

namespace test {

std::string unique_email(const std::string& who)
{
    return who + "-" + common::crypto::hex_encode(common::crypto::random_bytes(5)) + "@example.com";
}

std::string token_from_mail(const std::string& rcpt, const std::string& subject_part)
{
    auto m = wait_for_mail(rcpt, subject_part, std::chrono::seconds(15));
    BOOST_REQUIRE_MESSAGE(m.has_value(), "no mail '" << subject_part << "' to " << rcpt);
    static const std::regex token_re("token=([A-Za-z0-9_-]+)");
    std::smatch match;
    auto body = m->text_body();
    BOOST_REQUIRE_MESSAGE(std::regex_search(body, match, token_re), "no token link in: " << body);
    return match[1].str();
}

http_result post_json(const running_service& gw, const std::string& path, const json::object& body,
                      const std::string& bearer)
{
    header_list headers;
    if (!bearer.empty())
        headers.emplace_back("Authorization", "Bearer " + bearer);
    return http_call(gw.port, http::verb::post, path, json::serialize(body), headers);
}

http_result get_with(const running_service& gw, const std::string& path, const std::string& bearer)
{
    return http_call(gw.port, http::verb::get, path, {}, {{"Authorization", "Bearer " + bearer}});
}

std::string register_account(const running_service& gw, const std::string& email, const std::string& password)
{
    auto r = post_json(gw, "/v1/auth/register", {{"email", email}, {"password", password}, {"name", "Test User"}});
    BOOST_REQUIRE_MESSAGE(r.status == 201U, r);
    return std::string(r.json().at("user").at("id").as_string());
}

http_result login(const running_service& gw, const std::string& email, const std::string& password)
{
    return post_json(gw, "/v1/auth/login", {{"email", email}, {"password", password}});
}

std::string verified_login(const running_service& gw, const std::string& email, const std::string& password)
{
    register_account(gw, email, password);
    auto token = token_from_mail(email, "Confirm");
    auto v = post_json(gw, "/v1/auth/verify-email", {{"token", token}});
    BOOST_REQUIRE_MESSAGE(v.status == 200U, v);
    auto l = login(gw, email, password);
    BOOST_REQUIRE_MESSAGE(l.status == 200U, l);
    return std::string(l.json().at("token").as_string());
}

std::size_t mails_with(const std::string& rcpt, const std::string& subject_part)
{
    std::size_t n = 0;
    for (const auto& m : mails_to(rcpt))
        n += m.subject().find(subject_part) != std::string::npos ? 1U : 0U;
    return n;
}

void expect_problem(const http_result& r, unsigned status, const std::string& code)
{
    BOOST_TEST(r.status == status, r);
    BOOST_TEST(r.header("Content-Type") == "application/problem+json", r);
    if (r.header("Content-Type") == "application/problem+json")
        BOOST_TEST(r.json().at("code").as_string() == code, r);
}

void expect_rate_limited(const http_result& r, const std::string& what)
{
    BOOST_TEST(r.status == 429U, what << (what.empty() ? "" : ": ") << r);
    if (r.status != 429U)
        return;
    BOOST_TEST(r.json().at("code").as_string() == "RATE_LIMITED", what);
    auto retry = r.header("Retry-After");
    BOOST_TEST_REQUIRE(!retry.empty(), what);
    BOOST_TEST(std::stoi(retry) > 0, what);
}

} // namespace test
