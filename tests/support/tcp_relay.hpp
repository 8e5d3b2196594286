#pragma once

#include <memory>
#include <string>

namespace test {

/**
 * A TCP relay on a free loopback port that forwards every connection to `host:port` (a real
 * PostgreSQL, say), on a thread of its own. `freeze()` makes it stop moving bytes in both directions
 * while keeping every connection open: to its clients, exactly a server that hangs (stopped,
 * deadlocked, or behind a partition that drops packets). `thaw()` moves them again. The destructor
 * closes everything. freeze/thaw may be called from any thread.
 */
class tcp_relay
{
public:
    tcp_relay(std::string host, unsigned short port);
    /** To the host and port of `url` (scheme://user:pass@host:port/path); the host an IPv4 address. */
    explicit tcp_relay(const std::string& url);
    ~tcp_relay();
    tcp_relay(const tcp_relay&) = delete;
    tcp_relay& operator=(const tcp_relay&) = delete;

    unsigned short port() const;
    void freeze();
    void thaw();
    /**
     * Arms a one-shot trap: the first connection whose client sends bytes containing `marker` (say a
     * query parameter) has the server's replies held from then on — the query runs, its answer waits —
     * until `release()`. `trapped()` tells whether the trap has fired.
     */
    void hold_replies_after(std::string marker);
    bool trapped() const;
    void release();
    /**
     * Closes the trapped connection, both ways, without passing on the held replies: to its client, a
     * server that took the request and dropped the connection before answering (the request may well have
     * had its effect).
     */
    void cut_held();

    /** `url` (scheme://user:pass@host:port/path) with its host and port replaced by the relay's. */
    std::string rewrite_url(const std::string& url) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace test
