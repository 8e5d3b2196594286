#include "client/connection_pool.hpp"

#include <algorithm>

namespace common::client::detail {

void connection_pool::sweep_locked(clock::time_point now, dropped& out)
{
    // Entries are appended in release order, so each vector is sorted by idle-since: the expired
    // ones form a prefix.
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& v = it->second;
        auto live = std::find_if(v.begin(), v.end(), [&](const idle_entry& e) {
            return now - e.since < ttl_;
        });
        for (auto e = v.begin(); e != live; ++e)
            out.push_back(std::move(e->conn));
        v.erase(v.begin(), live);
        it = v.empty() ? idle_.erase(it) : std::next(it);
    }
}

std::shared_ptr<connection> connection_pool::acquire(const std::string& key, bool verify)
{
    // Servers close idle keep-alive connections after seconds, not milliseconds.
    constexpr auto recent = std::chrono::seconds(1);
    dropped drop;
    std::shared_ptr<connection> found;
    {
        std::lock_guard lock(mutex_);
        sweep_locked(clock::now(), drop);
        auto it = idle_.find(key);
        if (it == idle_.end())
            return nullptr;
        auto& v = it->second;
        const auto now = clock::now();
        while (!v.empty() && !found) {
            auto conn = std::move(v.back().conn);
            bool fresh = now - v.back().since < recent;
            v.pop_back();
            // The server may have closed it meanwhile; finding out now, before anything is
            // written, is what makes replacing it safe even for a POST.
            if ((verify || !fresh) && conn->unusable())
                drop.push_back(std::move(conn));
            else
                found = std::move(conn);
        }
        if (v.empty())
            idle_.erase(it);
    }
    return found;
}

void connection_pool::release(const std::string& key, std::shared_ptr<connection> conn)
{
    dropped drop;
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    sweep_locked(now, drop);
    auto& v = idle_[key];
    if (v.size() < max_idle_)
        v.push_back(idle_entry{std::move(conn), now});
    else
        drop.push_back(std::move(conn));
    if (v.empty())
        idle_.erase(key);
    // `drop` is declared before `lock`, so it is destroyed after the mutex is released.
}

void connection_pool::clear()
{
    std::unordered_map<std::string, std::vector<idle_entry>> all;
    {
        std::lock_guard lock(mutex_);
        all.swap(idle_);
    }
}

std::size_t connection_pool::size() const
{
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [key, v] : idle_)
        n += v.size();
    return n;
}

} // namespace common::client::detail
