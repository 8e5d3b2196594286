#pragma once

// Private to common_redis: drives one hiredis 0.14 async context from Boost.Asio.
//
// hiredis asks for socket events through its ev hooks (addRead/delRead/addWrite/delWrite/cleanup).
// A posix::stream_descriptor on the context's fd async_waits for readability/writability and calls
// redisAsyncHandleRead/Write. hiredis owns the fd and closes it, so the cleanup hook release()s
// the descriptor instead of closing it. Header-only because the component's source list is fixed.

#include "common/net/aliases.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/async.h>

#include <memory>
#include <utility>

namespace common::redis::detail {

using strand_type = net::strand<net::any_io_executor>;

class asio_adapter;

/** Told, on the strand and from inside hiredis, that hiredis is freeing the context. */
class context_observer
{
public:
    virtual void context_freed(asio_adapter& adapter, const redisAsyncContext* ac) = 0;

protected:
    ~context_observer() = default;
};

/**
 * The Asio side of one hiredis context. Shared by its owner and every outstanding wait, so a wait
 * completing after hiredis freed the context finds `context() == nullptr`, never a dangling
 * pointer. Strand only: every hiredis call (and so every hook) happens on `strand`.
 */
class asio_adapter : public std::enable_shared_from_this<asio_adapter>
{
public:
    /**
     * Watches `ac`'s socket and installs the hooks. On failure returns nullptr with `ec` set and
     * leaves `ac` untouched (the caller frees it). `observer_life` keeps the observer alive while a
     * wait is outstanding.
     */
    static std::shared_ptr<asio_adapter> attach(
        redisAsyncContext* ac,
        const strand_type& strand,
        context_observer& observer,
        std::weak_ptr<void> observer_life,
        boost::system::error_code& ec
    )
    {
        auto a = std::shared_ptr<asio_adapter>(
            new asio_adapter(ac, strand, observer, std::move(observer_life))
        );
        a->socket_.assign(ac->c.fd, ec);
        if (ec)
            return nullptr;
        ac->ev.data = a.get();
        ac->ev.addRead = &hook_add_read;
        ac->ev.delRead = &hook_del_read;
        ac->ev.addWrite = &hook_add_write;
        ac->ev.delWrite = &hook_del_write;
        ac->ev.cleanup = &hook_cleanup;
        return a;
    }

    /** The hiredis context, or nullptr once hiredis freed it. */
    redisAsyncContext* context() const noexcept { return ac_; }

    /** For an owner being destroyed: the cleanup hook will not call it any more. */
    void forget_observer() noexcept { observer_ = nullptr; }

private:
    asio_adapter(
        redisAsyncContext* ac,
        const strand_type& strand,
        context_observer& observer,
        std::weak_ptr<void> life
    )
        : ac_(ac)
        , socket_(strand)
        , observer_(&observer)
        , observer_life_(std::move(life))
    {}

    // hiredis expresses interest level-style ("want to read") while Asio waits are one-shot, so
    // re-arm after each event for as long as hiredis still wants it.
    static void hook_add_read(void* p)
    {
        auto* a = static_cast<asio_adapter*>(p);
        a->want_read_ = true;
        a->arm(true);
    }
    static void hook_del_read(void* p) { static_cast<asio_adapter*>(p)->want_read_ = false; }
    static void hook_add_write(void* p)
    {
        auto* a = static_cast<asio_adapter*>(p);
        a->want_write_ = true;
        a->arm(false);
    }
    static void hook_del_write(void* p) { static_cast<asio_adapter*>(p)->want_write_ = false; }
    static void hook_cleanup(void* p)
    {
        auto* a = static_cast<asio_adapter*>(p);
        const redisAsyncContext* ac = a->ac_;
        a->ac_ = nullptr;
        a->want_read_ = a->want_write_ = false;
        // hiredis closes the fd right after this hook: hand it back unclosed; this also aborts
        // the outstanding waits.
        (void)a->socket_.release();
        if (a->observer_ != nullptr && ac != nullptr)
            a->observer_->context_freed(*a, ac);
    }

    void arm(bool read)
    {
        bool& armed = read ? read_armed_ : write_armed_;
        if (armed || ac_ == nullptr)
            return;
        auto life = observer_life_.lock();
        if (!life)
            return; // the owner is being destroyed and frees the context itself
        armed = true;
        // Asio re-checks readiness when a wait starts (EPOLL_CTL_MOD), so bytes left in the socket
        // after hiredis's single 16 KiB read are not missed.
        socket_.async_wait(
            read ? net::posix::stream_descriptor::wait_read
                 : net::posix::stream_descriptor::wait_write,
            [self = shared_from_this(),
             life = std::move(life),
             read](const boost::system::error_code& ec) { self->on_event(read, ec); }
        );
    }

    void on_event(bool read, const boost::system::error_code& ec)
    {
        (read ? read_armed_ : write_armed_) = false;
        if (ec || ac_ == nullptr)
            return;
        if (read && want_read_)
            redisAsyncHandleRead(ac_); // may free the context: ac_ is nullptr afterwards
        else if (!read && want_write_)
            redisAsyncHandleWrite(ac_);
        // While connect(2) is still in progress hiredis returns without re-adding its interest.
        if (want_read_)
            arm(true);
        if (want_write_)
            arm(false);
    }

    redisAsyncContext* ac_;
    net::posix::stream_descriptor socket_;
    context_observer* observer_;
    std::weak_ptr<void> observer_life_;
    bool want_read_ = false;
    bool want_write_ = false;
    bool read_armed_ = false; // an async_wait is outstanding
    bool write_armed_ = false;
};

} // namespace common::redis::detail
