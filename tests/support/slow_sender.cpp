#include "support/slow_sender.hpp"

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

struct fd_guard
{
    int fd;
    ~fd_guard()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

bool write_all(int fd, const char* data, std::size_t size, int& err)
{
    while (size > 0) {
        auto n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

slow_send_result send_slowly(unsigned short port, const std::string& head, const std::string& trickle,
                             std::chrono::milliseconds gap, std::chrono::milliseconds limit)
{
    using clock = std::chrono::steady_clock;
    fd_guard s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0)
        throw std::runtime_error(std::string("send_slowly: socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error(std::string("send_slowly: connect: ") + std::strerror(errno));
    int err = 0;
    if (!write_all(s.fd, head.data(), head.size(), err))
        throw std::runtime_error(std::string("send_slowly: writing the head: ") + std::strerror(err));

    slow_send_result r;
    const auto start = clock::now();
    const auto deadline = start + limit;
    auto next_byte = start + gap;
    auto elapsed = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start); };
    for (;;) {
        auto now = clock::now();
        if (now >= deadline) {
            r.after = elapsed();
            r.how = "still open";
            return r;
        }
        auto wake = std::min(deadline, next_byte);
        auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
        pollfd p{s.fd, POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(wait_ms, 0)));
        if (ready < 0 && errno != EINTR)
            throw std::runtime_error(std::string("send_slowly: poll: ") + std::strerror(errno));
        if (ready > 0) {
            char buf[4096];
            auto n = ::recv(s.fd, buf, sizeof buf, 0);
            if (n > 0) {
                r.received.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            r.closed = true;
            r.after = elapsed();
            r.how = n == 0 ? "eof" : std::string("reset (") + std::strerror(errno) + ")";
            return r;
        }
        if (clock::now() >= next_byte && r.trickled < trickle.size()) {
            if (!write_all(s.fd, trickle.data() + r.trickled, 1, err)) {
                r.closed = true;
                r.after = elapsed();
                r.how = std::string("write failed: ") + std::strerror(err);
                return r;
            }
            ++r.trickled;
            next_byte += gap;
        } else if (r.trickled >= trickle.size()) {
            next_byte = deadline;
        }
    }
}

} // namespace test
