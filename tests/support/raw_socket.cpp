#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace test {

namespace {

using clock = std::chrono::steady_clock;

std::chrono::milliseconds left_until(clock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return std::max(left, std::chrono::milliseconds(0));
}

/** The frame at the start of `bytes`, and how many bytes it takes; nullopt while it is incomplete. */
std::optional<std::pair<ws_frame, std::size_t>> parse_frame(const std::string& bytes)
{
    if (bytes.size() < 2)
        return std::nullopt;
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    ws_frame f;
    f.fin = (byte(0) & 0x80) != 0;
    f.opcode = byte(0) & 0x0f;
    bool masked = (byte(1) & 0x80) != 0;
    std::uint64_t len = byte(1) & 0x7f;
    std::size_t at = 2;
    std::size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (bytes.size() < at + ext)
        return std::nullopt;
    if (ext != 0) {
        len = 0;
        for (std::size_t i = 0; i < ext; ++i)
            len = (len << 8) | byte(at + i);
        at += ext;
    }
    std::size_t key_at = at;
    if (masked)
        at += 4;
    if (bytes.size() < at + len)
        return std::nullopt;
    f.payload = bytes.substr(at, static_cast<std::size_t>(len));
    if (masked)
        for (std::size_t i = 0; i < f.payload.size(); ++i)
            f.payload[i] = static_cast<char>(f.payload[i] ^ bytes[key_at + i % 4]);
    return std::make_pair(std::move(f), at + static_cast<std::size_t>(len));
}

} // namespace

raw_connection::raw_connection(unsigned short port)
    : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
{
    if (fd_ < 0)
        throw std::runtime_error(std::string("raw_connection: socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        auto err = errno;
        ::close(fd_);
        throw std::runtime_error(std::string("raw_connection: connect: ") + std::strerror(err));
    }
}

raw_connection::~raw_connection()
{
    ::close(fd_);
}

bool raw_connection::pull(std::chrono::milliseconds wait)
{
    if (closed_)
        return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (ready <= 0)
        return true; // nothing yet (EINTR included)
    char buf[16384];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
        received_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    closed_ = true;
    return false;
}

bool raw_connection::send(std::string_view bytes)
{
    while (!bytes.empty()) {
        // What the peer sent meanwhile is taken in first, so that neither side waits on a full buffer.
        while (!closed_) {
            auto before = received_.size();
            pull(std::chrono::milliseconds(0));
            if (received_.size() == before)
                break;
        }
        if (closed_)
            return false;
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            closed_ = true;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool raw_connection::read_until(const std::function<bool(const std::string&)>& done, std::chrono::milliseconds timeout)
{
    auto deadline = clock::now() + timeout;
    while (!done(received_)) {
        auto left = left_until(deadline);
        if (left.count() == 0 || !pull(std::min(left, std::chrono::milliseconds(50))))
            return done(received_);
    }
    return true;
}

bool raw_connection::wait_closed(std::chrono::milliseconds timeout)
{
    auto deadline = clock::now() + timeout;
    while (!closed_) {
        auto left = left_until(deadline);
        if (left.count() == 0)
            return false;
        pull(std::min(left, std::chrono::milliseconds(50)));
    }
    return true;
}

std::string ws_client_frame(std::uint8_t opcode, std::string_view payload, bool masked, bool fin)
{
    std::string out;
    out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0f)));
    const char mask_bit = masked ? static_cast<char>(0x80) : 0;
    auto n = static_cast<std::uint64_t>(payload.size());
    if (n < 126) {
        out.push_back(static_cast<char>(mask_bit | static_cast<char>(n)));
    } else if (n <= 0xffff) {
        out.push_back(static_cast<char>(mask_bit | 126));
        for (int shift = 8; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((n >> shift) & 0xff));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            out.push_back(static_cast<char>((n >> shift) & 0xff));
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (masked)
        out.append(key, 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        out.push_back(masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
    return out;
}

std::uint16_t ws_frame::close_code() const
{
    if (payload.size() < 2)
        return 0;
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]));
}

raw_websocket::raw_websocket(unsigned short port, const std::string& target, const header_list& headers,
                             std::chrono::milliseconds timeout)
    : conn_(port)
{
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    for (const auto& [name, value] : headers)
        req += name + ": " + value + "\r\n";
    req += "\r\n";
    if (!conn_.send(req))
        throw std::runtime_error("raw_websocket: the server closed before the handshake");
    auto end_of_head = [](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; };
    if (!conn_.read_until(end_of_head, timeout))
        throw std::runtime_error("raw_websocket: no handshake answer: " + conn_.received());
    auto& r = conn_.received();
    auto head_end = r.find("\r\n\r\n") + 4;
    if (r.rfind("HTTP/1.1 101", 0) != 0)
        throw std::runtime_error("raw_websocket: handshake refused: " + r);
    r.erase(0, head_end);
}

std::optional<ws_frame> raw_websocket::next(std::chrono::milliseconds timeout)
{
    std::optional<std::pair<ws_frame, std::size_t>> parsed;
    conn_.read_until([&](const std::string& r) { return (parsed = parse_frame(r)).has_value(); }, timeout);
    if (!parsed)
        return std::nullopt;
    conn_.received().erase(0, parsed->second);
    return std::move(parsed->first);
}

std::optional<std::uint16_t> raw_websocket::close_code(std::chrono::milliseconds timeout)
{
    auto deadline = clock::now() + timeout;
    for (;;) {
        auto f = next(left_until(deadline));
        if (!f)
            return std::nullopt;
        if (f->opcode == 0x8)
            return f->close_code();
    }
}

} // namespace test
