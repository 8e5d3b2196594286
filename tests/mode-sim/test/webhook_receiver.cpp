#include "webhook_receiver.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <future>

namespace modesim_test {

using namespace std::chrono_literals;

webhook_receiver::webhook_receiver(unsigned short port)
    : work_(net::make_work_guard(ioc_))
{
    server_ = std::make_unique<common::web::server>(
        ioc_, net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port}, common::web::server_options{},
        [this](common::web::request& req, common::web::request_context&) { return handle(req); });
    server_->start();
    port_ = server_->local_endpoint().port();
    thread_ = std::thread([this] { ioc_.run(); });
}

webhook_receiver::~webhook_receiver()
{
    release_held();
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    auto stop = server_->shutdown(200ms);
    net::co_spawn(ioc_, std::move(stop), [done](std::exception_ptr) { done->set_value(); });
    // Bounded: a stuck shutdown must not hang the test run.
    finished.wait_for(5s);
    work_.reset();
    ioc_.stop();
    thread_.join();
}

std::string webhook_receiver::url(const std::string& path_and_query) const
{
    return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
}

void webhook_receiver::answer_with(std::vector<reply> script, reply then)
{
    std::lock_guard lock(mutex_);
    script_.assign(script.begin(), script.end());
    then_ = then;
    responder_ = nullptr;
}

void webhook_receiver::answer_with(std::function<reply(const received_request&)> f)
{
    std::lock_guard lock(mutex_);
    responder_ = std::move(f);
}

void webhook_receiver::release_held()
{
    std::vector<std::shared_ptr<net::steady_timer>> held;
    {
        std::lock_guard lock(mutex_);
        held.swap(held_);
    }
    // Each timer belongs to its connection's strand: cancel it there.
    for (const auto& t : held)
        net::post(t->get_executor(), [t] { t->cancel(); });
}

std::vector<received_request> webhook_receiver::requests() const
{
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t webhook_receiver::count() const
{
    std::lock_guard lock(mutex_);
    return requests_.size();
}

std::size_t webhook_receiver::held() const
{
    std::lock_guard lock(mutex_);
    return held_.size();
}

net::awaitable<common::web::response> webhook_receiver::handle(common::web::request& req)
{
    received_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.content_type = std::string(req[http::field::content_type]);
    r.signature = std::string(req["X-Mode-Signature"]);
    r.module_id = std::string(req["X-Mode-ModuleID"]);
    r.project_id = std::string(req["X-Mode-ProjectID"]);
    r.body = req.body();
    r.arrived = std::chrono::steady_clock::now();

    std::function<reply(const received_request&)> responder;
    reply answer;
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
        responder = responder_;
        if (!responder) {
            answer = script_.empty() ? then_ : script_.front();
            if (!script_.empty())
                script_.pop_front();
        }
    }
    if (responder)
        answer = responder(r);
    if (answer.hold) {
        // Long enough for any test; release_held (or the destructor) ends it sooner.
        auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor, 60s);
        {
            std::lock_guard lock(mutex_);
            held_.push_back(timer);
        }
        co_await timer->async_wait(net::as_tuple(net::use_awaitable));
    }
    common::web::response res{static_cast<http::status>(answer.status), req.version()};
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_return res;
}

std::string reference_hmac_hex(std::string_view key, std::string_view message)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), md.data(), &len);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 0x0f];
    }
    return out;
}

reserved_port::reserved_port()
    : socket_(ioc_)
{
    socket_.open(net::ip::tcp::v4());
    socket_.bind({net::ip::make_address("127.0.0.1"), 0});
    port_ = socket_.local_endpoint().port();
}

void reserved_port::release()
{
    socket_.close();
}

} // namespace modesim_test
