#include "common/redis/connection.hpp"

#include "redis/session.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <exception>
#include <stdexcept>
#include <utility>

namespace common::redis {

// --- URL --------------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_url(const std::string& why)
{
    // Never echo the URL or any part a password could have been typed into.
    throw std::invalid_argument("invalid Redis URL: " + why);
}

bool all_digits(std::string_view s)
{
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

} // namespace

config parse_url(std::string_view url)
{
    constexpr const char* form = "expected redis://[[user]:password@]host[:port][/db]";
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        bad_url(form);
    const boost::urls::url_view u = *parsed;
    const auto scheme = lower(u.scheme());
    if (scheme == "rediss")
        bad_url("rediss:// (TLS) is not supported");
    if (scheme != "redis")
        bad_url(std::string("the scheme must be redis://; ") + form);
    if (!u.has_authority())
        bad_url(form);
    if (u.has_query() || u.has_fragment())
        bad_url("a query or fragment is not supported");

    config cfg;
    if (u.has_userinfo()) {
        if (!u.has_password())
            bad_url("credentials must have the form [user]:password@");
        cfg.username = u.user();
        cfg.password = u.password();
        if (cfg.password.empty())
            bad_url("the password is empty");
    }

    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
    case boost::urls::host_type::name:
        cfg.host = u.host_address();
        break;
    case boost::urls::host_type::none:
        break; // redis:// alone: the default host
    case boost::urls::host_type::ipvfuture:
    default:
        bad_url("unsupported host form");
    }
    if (cfg.host.empty())
        cfg.host = config{}.host;

    if (u.has_port()) {
        const auto p = u.port();
        if (!all_digits(p) || p.size() > 5 || std::stoul(std::string(p)) == 0 ||
            std::stoul(std::string(p)) > 65535)
            bad_url("the port must be a number from 1 to 65535");
        cfg.port = static_cast<unsigned short>(std::stoul(std::string(p)));
    }

    const auto path = u.encoded_path();
    if (!path.empty() && path != "/") {
        const auto db = path.substr(1);
        if (path.front() != '/' || !all_digits(db) || db.size() > 9)
            bad_url("the path must be /<db number>");
        cfg.db = std::stoi(std::string(db));
    }
    return cfg;
}

std::string describe(const config& cfg)
{
    const bool v6 = cfg.host.find(':') != std::string::npos;
    return (v6 ? "[" + cfg.host + "]" : cfg.host) + ":" + std::to_string(cfg.port);
}

// --- connection_impl ----------------------------------------------------------------------------

namespace detail {

/**
 * One command() or pipeline() in flight. Lives on the strand; `complete` hands the result to the
 * awaiting coroutine (type-erased so the impl is not a template).
 */
struct pending
{
    pending(const strand_type& strand, std::size_t n)
        : replies(n)
        , remaining(n)
        , timer(strand)
    {}
    virtual ~pending() = default;
    pending(const pending&) = delete;
    pending& operator=(const pending&) = delete;

    /** Posts the handler to its own executor (never runs it inline, i.e. inside hiredis). */
    virtual void complete(std::exception_ptr ep, std::vector<reply> result) = 0;

    std::vector<reply> replies;
    std::size_t remaining;
    bool done = false;
    net::steady_timer timer;
    clock::time_point sent_at{};
};

template <typename Handler>
struct pending_op final : pending
{
    using executor_type = net::associated_executor_t<Handler, strand_type>;

    pending_op(const strand_type& strand, std::size_t n, Handler&& h)
        : pending(strand, n)
        , handler(std::move(h))
        // Keeps the caller's io_context running while it waits, as Asio's own operations do.
        , work(net::make_work_guard(net::get_associated_executor(handler, strand)))
    {}

    void complete(std::exception_ptr ep, std::vector<reply> result) override
    {
        auto ex = work.get_executor();
        net::post(ex, [h = std::move(handler), ep, r = std::move(result)]() mutable {
            std::move(h)(ep, std::move(r));
        });
        work.reset();
    }

    Handler handler;
    net::executor_work_guard<executor_type> work;
};

/** hiredis privdata for one command of a `pending`: deleted by the reply callback, which hiredis
 *  always calls exactly once (with nullptr when the context is freed first). */
struct reply_slot
{
    std::shared_ptr<pending> op;
    std::size_t index;
};

class connection_impl final : public session
{
public:
    connection_impl(net::any_io_executor ex, config cfg)
        : session(std::move(ex), std::move(cfg), "redis")
    {}
    ~connection_impl() override { abandon(); }
    connection_impl(const connection_impl&) = delete;
    connection_impl& operator=(const connection_impl&) = delete;

    const strand_type& strand() const noexcept { return strand_; }

    /** Any thread. */
    void exec(std::shared_ptr<pending> op, std::vector<std::vector<std::string>> commands)
    {
        auto self = std::static_pointer_cast<connection_impl>(shared_from_this());
        net::post(strand_, [self, op, cmds = std::move(commands)] { self->send(op, cmds); });
    }

private:
    void on_ready() override {}

    void send(const std::shared_ptr<pending>& op, const std::vector<std::vector<std::string>>& cmds)
    {
        redisAsyncContext* ac = context();
        if (ac == nullptr) {
            // Fail fast: a command queued while disconnected would only time out later.
            finish(
                *op, std::make_exception_ptr(error(error_kind::unavailable, unavailable_message()))
            );
            return;
        }
        op->sent_at = clock::now();
        for (std::size_t i = 0; i < cmds.size(); ++i) {
            auto slot = std::make_unique<reply_slot>(reply_slot{op, i});
            if (send_argv(ac, &on_reply, slot.get(), cmds[i]) != REDIS_OK) {
                // Only while hiredis is closing the context; slots already queued fail with it.
                finish(
                    *op,
                    std::make_exception_ptr(error(error_kind::unavailable, unavailable_message()))
                );
                return;
            }
            (void)slot.release(); // owned by hiredis until on_reply
        }
        op->timer.expires_after(cfg_.command_timeout);
        op->timer.async_wait([self = std::static_pointer_cast<connection_impl>(shared_from_this()),
                              weak =
                                  std::weak_ptr<pending>(op)](const boost::system::error_code& ec) {
            if (auto p = weak.lock(); p && !ec)
                self->on_timeout(*p);
        });
    }

    static void on_reply(redisAsyncContext* ac, void* r, void* privdata)
    {
        std::unique_ptr<reply_slot> slot(static_cast<reply_slot*>(privdata));
        auto* owner = owner_of(ac);
        if (owner == nullptr)
            return; // abandoned during destruction: nobody can be resumed any more
        static_cast<connection_impl*>(owner)->on_reply(
            *slot, static_cast<const redisReply*>(r), ac
        );
    }

    void on_reply(reply_slot& slot, const redisReply* r, const redisAsyncContext* ac)
    {
        pending& op = *slot.op;
        if (r == nullptr) {
            finish(
                op,
                std::make_exception_ptr(error(
                    error_kind::unavailable,
                    "redis " + describe(cfg_) + ": connection lost: " + lost_reason(ac)
                ))
            );
            return;
        }
        last_reply_ = clock::now();
        if (op.done)
            return; // timed out earlier; the late reply only proves the server is alive
        op.replies[slot.index] = from_hiredis(r);
        if (--op.remaining == 0)
            finish(op, nullptr);
    }

    void on_timeout(pending& op)
    {
        if (op.done)
            return;
        const auto ms = std::to_string(cfg_.command_timeout.count());
        finish(
            op,
            std::make_exception_ptr(error(
                error_kind::timeout, "redis " + describe(cfg_) + ": no reply within " + ms + " ms"
            ))
        );
        // Replies come in order, so if nothing at all arrived since this command was sent, the
        // server is not serving us (paused, hung, network gone). Reconnect rather than let every
        // later command wait out its own timeout.
        if (last_reply_ < op.sent_at)
            drop("no reply within " + ms + " ms, server unresponsive");
    }

    void finish(pending& op, std::exception_ptr ep)
    {
        if (op.done)
            return;
        op.done = true;
        op.timer.cancel();
        std::vector<reply> replies;
        if (!ep)
            replies = std::move(op.replies);
        op.complete(ep, std::move(replies));
    }

    clock::time_point last_reply_{};
};

/** async_initiate's initiation: hands the awaiting coroutine's handler to the impl. */
struct exec_initiation
{
    std::shared_ptr<connection_impl> impl;

    template <typename Handler>
    void operator()(Handler&& handler, std::vector<std::vector<std::string>> commands) const
    {
        using op_type = pending_op<std::decay_t<Handler>>;
        auto op = std::make_shared<op_type>(
            impl->strand(), commands.size(), std::forward<Handler>(handler)
        );
        impl->exec(std::move(op), std::move(commands));
    }
};

} // namespace detail

// --- connection ---------------------------------------------------------------------------------

namespace {

void check_command(const std::vector<std::string>& args)
{
    if (args.empty())
        throw std::invalid_argument("redis: empty command");
    const auto name = lower(args.front());
    if (name == "subscribe" || name == "psubscribe" || name == "unsubscribe" ||
        name == "punsubscribe" || name == "monitor")
        throw std::invalid_argument(
            "redis: " + name + " needs a dedicated connection; use common::redis::subscriber"
        );
}

} // namespace

connection::connection(net::any_io_executor ex, config cfg)
    : impl_(std::make_shared<detail::connection_impl>(std::move(ex), std::move(cfg)))
{}

connection::~connection()
{
    stop();
}

void connection::start()
{
    impl_->start();
}

void connection::stop()
{
    impl_->stop();
}

bool connection::connected() const noexcept
{
    return impl_->ready();
}

std::string connection::last_error() const
{
    return impl_->last_error();
}

const config& connection::settings() const noexcept
{
    return impl_->settings();
}

net::awaitable<reply> connection::command(std::vector<std::string> args)
{
    std::vector<std::vector<std::string>> one;
    one.push_back(std::move(args));
    auto replies = co_await pipeline(std::move(one));
    reply r = std::move(replies.front());
    if (r.is_error())
        throw error(error_kind::server, r.str);
    co_return r;
}

net::awaitable<std::vector<reply>>
connection::pipeline(std::vector<std::vector<std::string>> commands)
{
    for (const auto& c : commands)
        check_command(c);
    if (commands.empty())
        co_return std::vector<reply>{};
    // Copy the impl: it must outlive this call even if the connection is destroyed meanwhile.
    detail::exec_initiation init{impl_};
    co_return co_await net::
        async_initiate<const net::use_awaitable_t<>&, void(std::exception_ptr, std::vector<reply>)>(
            init, net::use_awaitable, std::move(commands)
        );
}

std::uint64_t connection::reconnects() const noexcept { return impl_->reconnects(); }
void connection::count_reconnects_on(metrics::counter& c) noexcept { impl_->count_reconnects_on(c); }

} // namespace common::redis
