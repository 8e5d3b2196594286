#include "mail/mail_templates.hpp"

#include "accounts/validation.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace gateway {

namespace {

/** A value for a header line: control characters (CR, LF, NUL, ...) become spaces, so no header is injected. */
std::string header_safe(std::string_view v)
{
    std::string out(v);
    std::replace_if(out.begin(), out.end(), is_control_char, ' ');
    return out;
}

std::string describe(std::chrono::milliseconds d)
{
    using namespace std::chrono;
    if (d >= hours(48) && d % hours(24) == milliseconds(0))
        return fmt::format("{} days", duration_cast<hours>(d).count() / 24);
    if (d >= hours(2))
        return fmt::format("{} hours", duration_cast<hours>(d).count());
    if (d >= hours(1))
        return "1 hour";
    return fmt::format("{} minutes", std::max<long long>(1, duration_cast<minutes>(d).count()));
}

std::string html_page(std::string_view heading, std::string_view paragraph, std::string_view link,
                      std::string_view button, std::string_view footer)
{
    return fmt::format(
        "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n<h2>{}</h2>\n<p>{}</p>\n"
        "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;"
        "text-decoration:none;border-radius:4px\">{}</a></p>\n<p>Or open this link: {}</p>\n<p style=\"color:#666\">{}</p>\n"
        "</body></html>\n",
        html_escape(heading), html_escape(paragraph), html_escape(link), html_escape(button), html_escape(link),
        html_escape(footer));
}

} // namespace

std::string token_link(std::string_view base, std::string_view path, std::string_view token)
{
    return fmt::format("{}{}?token={}", base, path, token);
}

std::string without_link_tokens(std::string_view text)
{
    constexpr std::string_view marker = "?token=";
    auto url_safe = [](char c) { // the alphabet of our tokens (base64url)
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    };
    std::string out;
    out.reserve(text.size());
    for (auto at = text.find(marker); at != std::string_view::npos; at = text.find(marker)) {
        out.append(text.substr(0, at + marker.size()));
        text.remove_prefix(at + marker.size());
        std::size_t n = 0;
        while (n < text.size() && url_safe(text[n]))
            ++n;
        text.remove_prefix(n);
        out.append("REDACTED");
    }
    out.append(text);
    return out;
}

std::string html_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

mail_content verification_mail(std::string_view name, std::string_view link, std::chrono::milliseconds valid_for)
{
    mail_content m;
    m.subject = "Confirm your email address";
    auto footer = fmt::format("The link works once and expires in {}. If you did not create an account, ignore "
                              "this mail.",
                              describe(valid_for));
    m.text = fmt::format("Hello {},\n\nPlease confirm your email address by opening this link:\n\n{}\n\n{}\n", name,
                         link, footer);
    m.html = html_page(fmt::format("Hello {},", name), "Please confirm your email address.", link,
                       "Confirm email address", footer);
    return m;
}

mail_content password_reset_mail(std::string_view name, std::string_view link, std::chrono::milliseconds valid_for)
{
    mail_content m;
    m.subject = "Reset your password";
    auto footer = fmt::format("The link works once and expires in {}. If you did not ask for a new password, "
                              "ignore this mail: your password stays as it is.",
                              describe(valid_for));
    m.text = fmt::format("Hello {},\n\nTo choose a new password, open this link:\n\n{}\n\n{}\n", name, link, footer);
    m.html = html_page(fmt::format("Hello {},", name), "To choose a new password, use the button below.", link,
                       "Choose a new password", footer);
    return m;
}

mail_content invitation_mail(std::string_view inviter, std::string_view home, std::string_view link,
                             std::chrono::milliseconds valid_for)
{
    mail_content m;
    m.subject = fmt::format("{} invited you to {}", header_safe(inviter), header_safe(home));
    auto footer = fmt::format("The invitation expires in {}.", describe(valid_for));
    m.text = fmt::format("Hello,\n\n{} invited you to join the home \"{}\". To accept, set your password here:\n\n{}\n\n{}\n",
                         inviter, home, link, footer);
    m.html = html_page("You are invited", fmt::format("{} invited you to join the home \"{}\".", inviter, home), link,
                       "Accept the invitation", footer);
    return m;
}

mail_content finish_registration_mail(std::string_view link, std::chrono::milliseconds valid_for)
{
    mail_content m;
    m.subject = "Finish creating your account";
    auto footer = fmt::format("The link works once and expires in {}. If you did not register, ignore this mail: "
                              "nothing changes until the link is used.",
                              describe(valid_for));
    m.text = fmt::format("Hello,\n\nYou were invited to homes with this address, and it was just used to register. "
                         "To finish, open this link and choose your password; your homes will be there:\n\n{}\n\n{}\n",
                         link, footer);
    m.html = html_page("Finish creating your account",
                       "You were invited to homes with this address, and it was just used to register. To finish, "
                       "choose your password; your homes will be there.",
                       link, "Choose your password", footer);
    return m;
}

mail_content member_added_mail(std::string_view name, std::string_view inviter, std::string_view home)
{
    mail_content m;
    m.subject = fmt::format("You were added to {}", header_safe(home));
    m.text = fmt::format("Hello {},\n\n{} added you to the home \"{}\".\n", name, inviter, home);
    m.html = fmt::format("<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n<h2>Hello {},</h2>\n"
                         "<p>{} added you to the home \"{}\".</p>\n</body></html>\n",
                         html_escape(name), html_escape(inviter), html_escape(home));
    return m;
}

} // namespace gateway
