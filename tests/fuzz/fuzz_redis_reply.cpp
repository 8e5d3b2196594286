// Redis replies as the client receives them: RESP bytes through hiredis' reader (the one
// redisAsyncContext uses, with its default limits), each reply copied by common::redis::from_hiredis (what
// connection.cpp hands to callers), then read as the callers read them.
//
// Input: the bytes Redis sends, split into two reads at a point the first byte picks.
#include "common/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

std::size_t count(const common::redis::reply& r)
{
    std::size_t n = 1;
    for (const auto& e : r.elements)
        n += count(e);
    return n;
}

std::size_t count(const redisReply* r)
{
    std::size_t n = 1;
    if (r->type == REDIS_REPLY_ARRAY)
        for (std::size_t i = 0; i < r->elements; ++i)
            n += count(r->element[i]);
    return n;
}

// hiredis 0.14 allocates an array reply's element table as announced (`*2000000000`), before any element
// arrives, and has no limit to set: only the Redis server the service is configured with sends replies,
// and ours never announces such an array. Inputs that do are out of scope (they would only measure
// calloc), not a finding in our code.
bool announces_huge_array(std::string_view bytes)
{
    for (auto star = bytes.find('*'); star != std::string_view::npos; star = bytes.find('*', star + 1)) {
        std::size_t digits = 0;
        while (star + 1 + digits < bytes.size() && bytes[star + 1 + digits] >= '0' && bytes[star + 1 + digits] <= '9')
            ++digits;
        if (digits > 6)
            return true;
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    if (announces_huge_array(std::string_view(reinterpret_cast<const char*>(data), size)))
        return 0;
    std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(redisReaderCreate(), &redisReaderFree);
    const char* bytes = reinterpret_cast<const char*>(data + 1);
    const std::size_t n = size - 1;
    const std::size_t cut = n == 0 ? 0 : data[0] % (n + 1);
    bool fed_all = false;
    if (redisReaderFeed(reader.get(), bytes, cut) != REDIS_OK)
        return 0;
    for (int replies = 0; replies < 1000; ++replies) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK)
            return 0; // a protocol error: the connection is dropped
        if (raw == nullptr) {
            if (fed_all)
                return 0;
            fed_all = true;
            if (redisReaderFeed(reader.get(), bytes + cut, n - cut) != REDIS_OK)
                return 0;
            continue;
        }
        std::unique_ptr<redisReply, decltype(&freeReplyObject)> r(static_cast<redisReply*>(raw), &freeReplyObject);
        auto copy = common::redis::from_hiredis(r.get());
        if (count(copy) != count(r.get()))
            std::abort();
        auto again = copy;
        if (!(again == copy))
            std::abort();
        (void)common::redis::to_string(copy);
        try {
            (void)copy.as_integer();
        } catch (const common::redis::error& e) {
            if (e.kind() != common::redis::error_kind::unexpected_reply || copy.is_integer())
                std::abort();
        }
        try {
            (void)copy.as_string();
        } catch (const common::redis::error& e) {
            if (e.kind() != common::redis::error_kind::unexpected_reply || copy.is_string() || copy.is_status())
                std::abort();
        }
    }
    return 0;
}
