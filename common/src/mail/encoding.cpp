#include "encoding.hpp"

#include "common/util/strings.hpp"

#include <string>
#include <string_view>

// RFC 2047 encoded-words for headers and RFC 2045 quoted-printable for bodies.

namespace common::mail::detail {

namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

/** "=XX" for one octet (quoted-printable and Q encoding). */
std::string escape_octet(char c)
{
    auto u = static_cast<std::size_t>(static_cast<unsigned char>(c));
    return std::string{'=', hex_digits[u >> 4U], hex_digits[u & 0x0FU]};
}

bool is_printable_ascii(char c)
{
    return c >= ' ' && c <= '~';
}

/**
 * Appends one header, folding between tokens so that lines stay within max_line.
 * A local of one encoder call, writing into that call's string: used by one thread, never shared.
 */
class header_writer
{
public:
    header_writer(std::string& out, std::string_view name)
        : out_(out)
        , line_(name.size() + 1)
    {
        out_ += name;
        out_ += ':';
    }

    /** Room for a token on the current line (after its separating space). */
    std::size_t room() const { return line_ + 1 < max_line ? max_line - line_ - 1 : 0; }

    void token(std::string_view t)
    {
        // Folding puts the line break before the separating space, which unfolding keeps.
        if (line_ + 1 + t.size() > max_line && !first_) {
            out_ += "\r\n";
            line_ = 0;
        }
        out_ += ' ';
        out_ += t;
        line_ += 1 + t.size();
        first_ = false;
    }

    void finish() { out_ += "\r\n"; }

private:
    std::string& out_;
    std::size_t line_;
    bool first_ = true;
};

/**
 * RFC 2047 Q encoded-words for `text` (valid UTF-8), split only between characters so each word
 * decodes on its own, each word at most 75 octets and fitting its line. Only the characters
 * allowed in both a Subject and a display-name phrase stay literal.
 */
void encoded_words(header_writer& h, std::string_view text)
{
    constexpr std::string_view prefix = "=?utf-8?Q?";
    constexpr std::size_t overhead = prefix.size() + 2; // and "?="
    std::string payload;
    auto flush = [&] {
        h.token(std::string(prefix) + payload + "?=");
        payload.clear();
    };
    // The first word shares its line with the header name; later words start a folded line.
    auto budget = h.room() > overhead + 12 ? h.room() - overhead : max_line - 1 - overhead;
    for (std::size_t i = 0; i < text.size();) {
        auto n = utf8_length(text, i);
        std::string encoded;
        for (std::size_t k = i; k < i + n; ++k) {
            char c = text[k];
            if (is_alnum(c) || "!*+-/"sv.find(c) != std::string_view::npos) {
                encoded += c;
            } else if (c == ' ') {
                encoded += '_';
            } else {
                encoded += escape_octet(c);
            }
        }
        if (payload.size() + encoded.size() > budget) {
            flush();
            budget = max_line - 1 - overhead;
        }
        payload += encoded;
        i += n;
    }
    if (!payload.empty())
        flush();
}

/** Plain ASCII words are readable as is; anything else, or words too long to fold, are encoded. */
bool needs_encoding(std::string_view text)
{
    if (text.find("=?") != std::string_view::npos || trim(text).size() != text.size())
        return true;
    std::size_t word = 0;
    for (char c : text) {
        if (!is_printable_ascii(c))
            return true;
        word = c == ' ' ? 0 : word + 1;
        if (word > 60)
            return true;
    }
    return false;
}

} // namespace

void text_header(std::string& out, std::string_view name, std::string_view text)
{
    header_writer h(out, name);
    if (needs_encoding(text)) {
        encoded_words(h, text);
    } else {
        // Folding is allowed at any space; an empty token keeps a double space.
        for (std::size_t pos = 0; pos <= text.size() && !text.empty();) {
            auto space = text.find(' ', pos);
            if (space == std::string_view::npos)
                space = text.size();
            h.token(text.substr(pos, space - pos));
            pos = space + 1;
        }
    }
    h.finish();
}

void mailbox_header(std::string& out, std::string_view name, const mailbox& mb)
{
    header_writer h(out, name);
    auto display = trim(mb.name);
    if (display.empty()) {
        h.token(mb.address);
        h.finish();
        return;
    }
    // Short ASCII names stay readable (as atoms, or as a quoted-string when they hold specials
    // such as ',' or '.'); anything longer is encoded, because only encoded-words can be folded.
    bool ascii = display.size() <= 60 && !needs_encoding(display);
    bool atoms = true;
    for (char c : display)
        atoms = atoms && (is_atext(c) || c == ' ');
    if (ascii && atoms) {
        h.token(display);
    } else if (ascii) {
        std::string quoted = "\"";
        for (char c : display) {
            if (c == '"' || c == '\\')
                quoted += '\\';
            quoted += c;
        }
        h.token(quoted + '"');
    } else {
        encoded_words(h, display);
    }
    h.token("<" + mb.address + ">");
    h.finish();
}

std::string quoted_printable(std::string_view text, bool soft_end)
{
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
            out += "\r\n";
            line = 0;
            continue;
        }
        bool last = i + 1 == text.size() || text[i + 1] == '\r' || text[i + 1] == '\n';
        bool literal = (c > ' ' && c <= '~' && c != '=') || ((c == ' ' || c == '\t') && !last);
        if (line == 0 && (c == '.' || text.substr(i, 5) == "From "))
            literal = false;
        auto encoded = literal ? std::string(1, c) : escape_octet(c);
        // Leave room for the '=' of a soft break unless this ends a hard line.
        auto limit = last && !(soft_end && i + 1 == text.size()) ? max_line : max_line - 1;
        if (line + encoded.size() > limit) {
            out += "=\r\n";
            line = 0;
            if (c == '.' || text.substr(i, 5) == "From ")
                encoded = escape_octet(c);
        }
        out += encoded;
        line += encoded.size();
    }
    if (soft_end && line > 0)
        out += "=\r\n";
    return out;
}

} // namespace common::mail::detail
