#pragma once

// MODE's responses, written in one place: `application/json; charset=utf-8` bodies, `{"reason", "data"?}`
// errors, the CORS headers every MODE answer carries, and the `vnd.tinkermode.range` header of lists.

#include "errors.hpp"
#include "model.hpp"
#include "views.hpp"

#include "common/web/types.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <string_view>

namespace modesim {

using common::web::request;
using common::web::response;

response mode_json(const request& req, http::status status, const boost::json::value& body);
response mode_empty(const request& req, http::status status = http::status::no_content);
/** A MODE error answer to a request of HTTP `version`. */
response mode_error(unsigned version, bool keep_alive, const sim_error& e);
/** A 201 with the object and `Location: location`. */
response mode_created(const request& req, const boost::json::value& body, std::string_view location);

/** The CORS headers of mode-api.md ("Conventions"); the app adds them to every answer. */
void add_cors_headers(response& res);

// "start-end/total" (end inclusive), or "*" + "/total" for an empty page.
std::string range_header(std::size_t skip, std::size_t count, std::size_t total);

/** A JSON array of the page's items and its range header. */
template <class T>
response mode_page(const request& req, const page<T>& pg)
{
    boost::json::array items;
    items.reserve(pg.items.size());
    for (const auto& item : pg.items)
        items.emplace_back(to_json(item));
    response res = mode_json(req, http::status::ok, items);
    res.set("vnd.tinkermode.range", range_header(pg.skip, pg.items.size(), pg.total));
    return res;
}

} // namespace modesim
