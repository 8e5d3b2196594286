#include "common/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <cstddef>

namespace common::redis {

reply from_hiredis(const redisReply* r)
{
    reply out;
    if (r == nullptr)
        return out;
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        out.kind = reply_kind::status;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.kind = reply_kind::error;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        out.kind = reply_kind::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.kind = reply_kind::string;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        out.kind = reply_kind::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i)
            out.elements.push_back(from_hiredis(r->element[i]));
        break;
    case REDIS_REPLY_NIL:
    default:
        // hiredis 0.14 speaks RESP2 only, so anything else cannot occur; treat it as nil.
        break;
    }
    return out;
}

long long reply::as_integer() const
{
    if (kind != reply_kind::integer)
        throw error(
            error_kind::unexpected_reply, "expected an integer reply, got " + to_string(*this)
        );
    return integer;
}

const std::string& reply::as_string() const
{
    if (kind != reply_kind::string && kind != reply_kind::status)
        throw error(
            error_kind::unexpected_reply, "expected a string reply, got " + to_string(*this)
        );
    return str;
}

std::string to_string(const reply& r)
{
    switch (r.kind) {
    case reply_kind::nil:
        return "nil";
    case reply_kind::status:
        return r.str;
    case reply_kind::error:
        return "(error) " + r.str;
    case reply_kind::integer:
        return std::to_string(r.integer);
    case reply_kind::string:
        return '"' + r.str + '"';
    case reply_kind::array: {
        std::string s = "[";
        for (std::size_t i = 0; i < r.elements.size(); ++i) {
            if (i != 0)
                s += ", ";
            s += to_string(r.elements[i]);
        }
        return s + "]";
    }
    }
    return "?";
}

std::string_view to_string(error_kind k) noexcept
{
    switch (k) {
    case error_kind::unavailable:
        return "unavailable";
    case error_kind::timeout:
        return "timeout";
    case error_kind::server:
        return "server";
    case error_kind::unexpected_reply:
        return "unexpected_reply";
    }
    return "unknown";
}

} // namespace common::redis
