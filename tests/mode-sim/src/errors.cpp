#include "errors.hpp"

namespace modesim {

sim_error::sim_error(http::status status, std::string_view reason, json::object data)
    : std::runtime_error(std::string(reason))
    , status_(status)
    , reason_(reason)
    , data_(std::move(data))
{
}

sim_error invalid_input(std::string_view field, std::string_view problem)
{
    json::object data;
    data[json::string_view(field.data(), field.size())] = json::string_view(problem.data(), problem.size());
    return {http::status::forbidden, reason::invalid_input, std::move(data)};
}

sim_error forbidden(std::string_view reason)
{
    return {http::status::forbidden, reason};
}

sim_error not_found(std::string_view reason)
{
    return {http::status::not_found, reason};
}

sim_error conflict(std::string_view reason)
{
    return {http::status::conflict, reason};
}

} // namespace modesim
