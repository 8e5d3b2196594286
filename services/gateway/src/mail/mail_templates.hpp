#pragma once

#include "mail/mail_outbox.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace gateway {

/** `base` + `path` + "?token=" + token: the link a mail carries (tokens are URL-safe). */
std::string token_link(std::string_view base, std::string_view path, std::string_view token);

/** `text` with the token of every token_link in it replaced by "REDACTED": fit for a log. */
std::string without_link_tokens(std::string_view text);

/** Escapes text for HTML element content and attribute values. */
std::string html_escape(std::string_view s);

mail_content verification_mail(std::string_view name, std::string_view link, std::chrono::milliseconds valid_for);
mail_content password_reset_mail(std::string_view name, std::string_view link, std::chrono::milliseconds valid_for);
mail_content invitation_mail(std::string_view inviter, std::string_view home, std::string_view link,
                             std::chrono::milliseconds valid_for);
/** To an invited address that someone registered: the link (accept-invite) where its owner sets the password. */
mail_content finish_registration_mail(std::string_view link, std::chrono::milliseconds valid_for);
mail_content member_added_mail(std::string_view name, std::string_view inviter, std::string_view home);

} // namespace gateway
