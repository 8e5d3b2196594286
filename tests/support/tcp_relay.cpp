#include <mutex>
#include <string_view>
#include "support/tcp_relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <array>
#include <atomic>
#include <stdexcept>
#include <thread>

namespace test {

namespace net = boost::asio;
using tcp = net::ip::tcp;

struct tcp_relay::impl
{
    std::string host;
    unsigned short target_port;
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0)};
    std::atomic<bool> frozen{false};
    std::mutex trap_mutex;
    std::string marker; // guarded by trap_mutex; empty when no trap is armed
    std::atomic<bool> fired{false};
    std::atomic<bool> released{false};
    std::atomic<bool> cut{false};
    std::thread thread;

    // Bytes from `from` to `to`; while frozen, what was read is held and nothing more is read.
    // `upstream` pumps run the trap on what the client sends; `held` is the connection's trap flag.
    net::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to, bool upstream,
                              std::shared_ptr<std::atomic<bool>> held)
    {
        std::array<char, 16384> buf{};
        net::steady_timer pause(co_await net::this_coro::executor);
        try {
            for (;;) {
                auto n = co_await from->async_read_some(net::buffer(buf), net::use_awaitable);
                if (upstream) {
                    std::lock_guard lock(trap_mutex);
                    if (!marker.empty() && std::string_view(buf.data(), n).find(marker) != std::string_view::npos) {
                        marker.clear();
                        held->store(true);
                        fired.store(true);
                    }
                }
                while (frozen.load() || (!upstream && held->load() && !released.load())) {
                    if (!upstream && held->load() && cut.load()) {
                        boost::system::error_code ec;
                        from->close(ec);
                        to->close(ec);
                        co_return;
                    }
                    pause.expires_after(std::chrono::milliseconds(10));
                    co_await pause.async_wait(net::use_awaitable);
                }
                co_await net::async_write(*to, net::buffer(buf.data(), n), net::use_awaitable);
            }
        } catch (const std::exception&) {
        }
        boost::system::error_code ec;
        to->shutdown(tcp::socket::shutdown_send, ec);
        from->close(ec);
    }

    net::awaitable<void> accept_loop()
    {
        for (;;) {
            auto client = std::make_shared<tcp::socket>(co_await acceptor.async_accept(net::use_awaitable));
            auto server = std::make_shared<tcp::socket>(ioc);
            boost::system::error_code ec;
            server->connect(tcp::endpoint(net::ip::make_address(host), target_port), ec);
            if (ec)
                continue; // the client sees its connection closed
            auto held = std::make_shared<std::atomic<bool>>(false);
            net::co_spawn(ioc, pump(client, server, true, held), net::detached);
            net::co_spawn(ioc, pump(server, client, false, held), net::detached);
        }
    }
};

tcp_relay::tcp_relay(std::string host, unsigned short port)
    : impl_(std::make_unique<impl>())
{
    impl_->host = std::move(host);
    impl_->target_port = port;
    net::co_spawn(impl_->ioc, impl_->accept_loop(), net::detached);
    impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

namespace {

boost::urls::url parse(const std::string& url)
{
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || !parsed->has_port())
        throw std::invalid_argument("tcp_relay: not a URL with a port");
    return boost::urls::url(*parsed);
}

} // namespace

tcp_relay::tcp_relay(const std::string& url)
    : tcp_relay(std::string(parse(url).host()), parse(url).port_number())
{
}

tcp_relay::~tcp_relay()
{
    impl_->ioc.stop();
    impl_->thread.join();
}

unsigned short tcp_relay::port() const
{
    return impl_->acceptor.local_endpoint().port();
}

void tcp_relay::freeze()
{
    impl_->frozen = true;
}

void tcp_relay::thaw()
{
    impl_->frozen = false;
}

void tcp_relay::hold_replies_after(std::string marker)
{
    std::lock_guard lock(impl_->trap_mutex);
    impl_->marker = std::move(marker);
    impl_->fired = false;
    impl_->released = false;
    impl_->cut = false;
}

bool tcp_relay::trapped() const
{
    return impl_->fired.load();
}

void tcp_relay::release()
{
    impl_->released = true;
}

void tcp_relay::cut_held()
{
    impl_->cut = true;
}

std::string tcp_relay::rewrite_url(const std::string& url) const
{
    auto u = parse(url);
    u.set_host_ipv4(boost::urls::ipv4_address(0x7f000001));
    u.set_port_number(port());
    return std::string(u.buffer());
}

} // namespace test
