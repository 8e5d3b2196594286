#include "support/stack.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

// The messages the SMTP sink received (stack.hpp): reading its mail dir, and decoding them (MIME, as
// best as reasonable).

namespace test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

// ------------------------------------------------------------------------------ mail files

namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

mail read_mail(const fs::path& path)
{
    auto v = boost::json::parse(read_file(path));
    const auto& o = v.as_object();
    mail m;
    m.from = std::string(o.at("mail_from").as_string());
    for (const auto& r : o.at("rcpt_tos").as_array())
        m.to.emplace_back(r.as_string());
    m.raw = std::string(o.at("data").as_string());
    if (const auto* t = o.if_contains("received_at"); t != nullptr && t->is_string())
        m.received_at = std::string(t->as_string());
    m.file = path.string();
    return m;
}

} // namespace

std::vector<mail> mails_to(const std::string& rcpt)
{
    fs::path dir = mail_dir();
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        auto name = entry.path().filename().string();
        // The sink writes ".<name>.tmp" and renames: only complete files match.
        if (name.front() != '.' && entry.path().extension() == ".json")
            files.push_back(entry.path());
    }
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw std::runtime_error("mails_to: cannot list " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end()); // the names start with the receive time
    std::vector<mail> out;
    for (const auto& f : files) {
        auto m = read_mail(f);
        bool match = rcpt.empty() || std::any_of(m.to.begin(), m.to.end(), [&](const auto& t) {
                         return iequals(t, rcpt);
                     });
        if (match)
            out.push_back(std::move(m));
    }
    return out;
}

std::optional<mail> wait_for_mail(
    const std::string& rcpt,
    const std::function<bool(const mail&)>& predicate,
    std::chrono::milliseconds timeout
)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto mails = mails_to(rcpt);
        for (auto it = mails.rbegin(); it != mails.rend(); ++it)
            if (predicate(*it))
                return std::move(*it);
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(50ms);
    }
}

std::optional<mail> wait_for_mail(
    const std::string& rcpt, std::string_view subject_part, std::chrono::milliseconds timeout
)
{
    return wait_for_mail(
        rcpt,
        [subject_part](const mail& m) {
            return m.subject().find(subject_part) != std::string::npos;
        },
        timeout
    );
}

// ------------------------------------------------------------------------------ MIME, as best as
// reasonable

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/** Headers and body of a message or MIME part (split at the first empty line, CRLF or LF). */
std::pair<std::string_view, std::string_view> split_entity(std::string_view msg)
{
    auto crlf = msg.find("\r\n\r\n");
    auto lf = msg.find("\n\n");
    if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf))
        return {msg.substr(0, crlf), msg.substr(crlf + 4)};
    if (lf != std::string_view::npos)
        return {msg.substr(0, lf), msg.substr(lf + 2)};
    return {msg, {}};
}

/** The first header `name` of a header block, unfolded, not decoded. */
std::string raw_header(std::string_view headers, std::string_view name)
{
    std::string value;
    bool in_match = false;
    std::istringstream lines{std::string(headers)};
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            if (in_match)
                value += line; // unfolding removes only the line break
            continue;
        }
        if (in_match)
            break;
        auto colon = line.find(':');
        if (colon != std::string::npos &&
            iequals(trim(std::string_view(line).substr(0, colon)), name)) {
            in_match = true;
            value = line.substr(colon + 1);
        }
    }
    return std::string(trim(value));
}

/** A parameter of a structured header value (`multipart/mixed; boundary="x"` → "x" for boundary).
 */
std::string header_param(std::string_view value, std::string_view param)
{
    auto lv = lower(value);
    auto key = lower(param) + "=";
    for (auto pos = lv.find(key); pos != std::string::npos; pos = lv.find(key, pos + 1)) {
        if (pos != 0 && lv[pos - 1] != ';' &&
            !std::isspace(static_cast<unsigned char>(lv[pos - 1])))
            continue;
        auto rest = value.substr(pos + key.size());
        if (!rest.empty() && rest.front() == '"')
            return std::string(rest.substr(1, rest.find('"', 1) - 1));
        return std::string(trim(rest.substr(0, rest.find(';'))));
    }
    return {};
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/** in[at], in[at + 1] are two hex digits (the "XX" of "=XX"). */
bool escaped_byte(std::string_view in, std::size_t at)
{
    return at + 1 < in.size() && hex_value(in[at]) >= 0 && hex_value(in[at + 1]) >= 0;
}

std::string decode_qp(std::string_view in, bool underscore_is_space)
{
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '_' && underscore_is_space) {
            out += ' ';
        } else if (c == '=' && i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {
            // A soft line break: '=' ends an encoded line that the original did not break.
            bool crlf = in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n';
            i += crlf ? 2U : 1U;
        } else if (c == '=' && escaped_byte(in, i + 1)) {
            out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::string decode_base64(std::string_view in)
{
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        auto v = alphabet.find(c);
        if (v == std::string_view::npos)
            continue; // whitespace, line breaks and '=' padding
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xffU);
        }
    }
    return out;
}

std::string to_utf8(std::string text, std::string_view charset)
{
    auto cs = lower(charset);
    if (cs != "iso-8859-1" && cs != "latin1" && cs != "latin-1")
        return text; // utf-8, us-ascii, or a charset we leave as is
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xc0U | (u >> 6));
            out += static_cast<char>(0x80U | (u & 0x3fU));
        }
    }
    return out;
}

/** RFC 2047: =?charset?B|Q?text?= words decoded; whitespace between two such words dropped. */
std::string decode_words(std::string_view in)
{
    std::string out;
    std::string pending_space;
    bool last_was_word = false;
    std::size_t i = 0;
    while (i < in.size()) {
        if (in.compare(i, 2, "=?") == 0) {
            auto q1 = in.find('?', i + 2);
            auto q2 = q1 == std::string_view::npos ? q1 : in.find('?', q1 + 1);
            auto end = q2 == std::string_view::npos ? q2 : in.find("?=", q2 + 1);
            if (end != std::string_view::npos && q2 == q1 + 2) {
                auto charset = in.substr(i + 2, q1 - i - 2);
                auto text = in.substr(q2 + 1, end - q2 - 1);
                char enc = static_cast<char>(std::tolower(static_cast<unsigned char>(in[q1 + 1])));
                auto decoded = enc == 'b' ? decode_base64(text) : decode_qp(text, true);
                if (!last_was_word)
                    out += pending_space;
                out += to_utf8(decoded, charset.substr(0, charset.find('*')));
                pending_space.clear();
                last_was_word = true;
                i = end + 2;
                continue;
            }
        }
        if (std::isspace(static_cast<unsigned char>(in[i]))) {
            pending_space += in[i++];
            continue;
        }
        out += pending_space;
        pending_space.clear();
        out += in[i++];
        last_was_word = false;
    }
    return out + pending_space;
}

struct leaf
{
    std::string_view headers;
    std::string_view body;
};

/** The leaf parts of a MIME entity, depth first, in order. */
void collect_leaves(std::string_view entity, std::vector<leaf>& out, int depth = 0)
{
    auto [headers, body] = split_entity(entity);
    auto type = raw_header(headers, "Content-Type");
    auto boundary = header_param(type, "boundary");
    if (depth > 8 || lower(type).rfind("multipart/", 0) != 0 || boundary.empty()) {
        out.push_back({headers, body});
        return;
    }
    auto delimiter = "--" + boundary;
    auto pos = body.find(delimiter);
    while (pos != std::string_view::npos) {
        auto after = pos + delimiter.size();
        if (body.compare(after, 2, "--") == 0)
            break; // closing delimiter
        auto start = body.find('\n', after);
        if (start == std::string_view::npos)
            break;
        auto next = body.find("\n" + delimiter, start);
        auto part =
            body.substr(start + 1, next == std::string_view::npos ? next : next - start - 1);
        if (!part.empty() && part.back() == '\r')
            part.remove_suffix(1);
        collect_leaves(part, out, depth + 1);
        pos = next == std::string_view::npos ? next : next + 1;
    }
}

} // namespace

std::string mail::header(std::string_view name) const
{
    return decode_words(raw_header(split_entity(raw).first, name));
}

std::string mail::text_body() const
{
    std::vector<leaf> leaves;
    collect_leaves(raw, leaves);
    auto media_type = [](const leaf& l) {
        auto type = lower(raw_header(l.headers, "Content-Type"));
        return type.empty() ? std::string("text/plain")
                            : std::string(trim(type.substr(0, type.find(';'))));
    };
    auto it = std::find_if(leaves.begin(), leaves.end(), [&](const leaf& l) {
        return media_type(l) == "text/plain";
    });
    if (it == leaves.end())
        it = std::find_if(leaves.begin(), leaves.end(), [&](const leaf& l) {
            return media_type(l).rfind("text/", 0) == 0;
        });
    if (it == leaves.end())
        return {};
    auto encoding = lower(raw_header(it->headers, "Content-Transfer-Encoding"));
    std::string text = encoding == "quoted-printable" ? decode_qp(it->body, false)
                       : encoding == "base64"         ? decode_base64(it->body)
                                                      : std::string(it->body);
    text =
        to_utf8(std::move(text), header_param(raw_header(it->headers, "Content-Type"), "charset"));
    std::string out;
    for (char c : text)
        if (c != '\r')
            out += c;
    return out;
}

} // namespace test
