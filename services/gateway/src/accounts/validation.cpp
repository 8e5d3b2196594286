#include "accounts/validation.hpp"

#include "common/util/strings.hpp"
#include "common/web/problem.hpp"

namespace gateway {

namespace {

using common::trim;

[[noreturn]] void bad_email()
{
    throw common::web::bad_request("INVALID_EMAIL", "email: not a valid email address");
}

bool valid_domain(std::string_view d)
{
    if (d.empty() || d.size() > 253)
        return false;
    std::size_t labels = 0;
    while (true) {
        auto dot = d.find('.');
        auto label = d.substr(0, dot);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (char ch : label) {
            auto c = static_cast<unsigned char>(ch);
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ok)
                return false;
        }
        ++labels;
        if (dot == std::string_view::npos)
            break;
        d.remove_prefix(dot + 1);
    }
    return labels >= 2;
}

} // namespace

std::size_t utf8_length(std::string_view s)
{
    std::size_t n = 0;
    for (char ch : s)
        if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80)
            ++n;
    return n;
}

std::string validate_email(std::string_view raw)
{
    auto email = trim(raw);
    if (email.empty() || email.size() > 254)
        bad_email();
    auto at = email.rfind('@');
    if (at == std::string_view::npos || at == 0)
        bad_email();
    auto local = email.substr(0, at);
    auto domain = email.substr(at + 1);
    if (local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        bad_email();
    for (char ch : local) {
        auto c = static_cast<unsigned char>(ch);
        // ASCII only: mail to internationalised addresses (SMTPUTF8) is not supported.
        if (c <= 0x20 || c >= 0x7F || c == '@' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
            c == ';' || c == '<' || c == '>' || c == '[' || c == '\\' || c == ']')
            bad_email();
    }
    if (!valid_domain(domain))
        bad_email();
    return std::string(email);
}

std::string normalize_email(std::string_view email)
{
    std::string out(email);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

void validate_password(std::string_view password)
{
    auto n = utf8_length(password);
    if (n < 12)
        throw common::web::bad_request("WEAK_PASSWORD", "password: must be at least 12 characters");
    if (n > 128)
        throw common::web::bad_request("WEAK_PASSWORD", "password: must be at most 128 characters");
}

std::string validate_name(std::string_view raw)
{
    auto name = trim(raw);
    auto n = utf8_length(name);
    if (n == 0 || n > 100)
        throw common::web::bad_request("INVALID_REQUEST", "name: must be 1 to 100 characters");
    reject_control_chars(name, "name");
    return std::string(name);
}

void reject_control_chars(std::string_view value, std::string_view field)
{
    for (char ch : value)
        if (is_control_char(ch))
            throw common::web::bad_request("INVALID_REQUEST", std::string(field) + ": must not contain control characters");
}

} // namespace gateway
