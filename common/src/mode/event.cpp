#include "common/mode/event.hpp"

#include <charconv>

namespace common::mode {

std::string live_event_json(std::int64_t seq, std::string_view payload)
{
    // payload is a serialized object: our two members go in front of its own.
    std::string out;
    out.reserve(payload.size() + 32);
    out += "{\"type\":\"event\",\"seq\":";
    out += std::to_string(seq);
    if (payload.size() > 2)
        out += ',';
    if (!payload.empty())
        out.append(payload.substr(1));
    else
        out += '}';
    return out;
}

namespace {
constexpr std::string_view home_prefix = "mb:home:";
}

std::string home_channel(std::int64_t home_id)
{
    return std::string(home_prefix) + std::to_string(home_id);
}

std::optional<std::int64_t> home_of_channel(std::string_view channel)
{
    if (!channel.starts_with(home_prefix))
        return std::nullopt;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(channel.data() + home_prefix.size(), channel.data() + channel.size(), v);
    if (ec != std::errc() || ptr != channel.data() + channel.size())
        return std::nullopt;
    return v;
}

std::string_view published_channel()
{
    return "mb:published";
}

std::optional<std::int64_t> parse_published(std::string_view payload)
{
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), v);
    if (ec != std::errc() || ptr != payload.data() + payload.size() || v < 0)
        return std::nullopt;
    return v;
}

std::string user_channel(std::string_view user_id)
{
    return "mb:user:" + std::string(user_id);
}

} // namespace common::mode
