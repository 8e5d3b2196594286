#include "common/web/router.hpp"

#include "common/web/problem.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <set>
#include <stdexcept>

namespace common::web {

const std::string& path_params::at(std::string_view name) const
{
    for (const auto& [k, v] : items_)
        if (k == name)
            return v;
    throw std::out_of_range("no path parameter " + std::string(name));
}

// A trie of path segments: literal children first, then at most one parameter child.
struct router::node
{
    std::map<std::string, std::unique_ptr<node>, std::less<>> literals;
    std::unique_ptr<node> param;
    std::string param_name;
    std::map<http::verb, handler> handlers;
    std::shared_ptr<const ws_handler> ws; // a WebSocket endpoint (served to GET upgrades)
    ws_admit admit;                       // ... and what runs before its upgrade is accepted
    std::string pattern;

    bool has_routes() const { return !handlers.empty() || ws != nullptr; }
};

router::router()
    : root_(std::make_unique<node>())
{
}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

namespace {

// Splits "/a/b/" into {"a", "b", ""}: a trailing slash is a distinct (empty) segment, so "/v1/me/"
// does not silently match "/v1/me".
template <class F>
bool for_each_segment(std::string_view path, F&& f)
{
    if (path.empty() || path.front() != '/')
        return false;
    path.remove_prefix(1);
    for (;;) {
        auto slash = path.find('/');
        if (!f(path.substr(0, slash)))
            return false;
        if (slash == std::string_view::npos)
            return true;
        path.remove_prefix(slash + 1);
    }
}

std::string allow_header(const std::map<http::verb, handler>& handlers, bool websocket)
{
    // HEAD is served wherever GET is (match falls back to it), so it is allowed there too.
    std::set<http::verb> verbs;
    for (const auto& entry : handlers)
        verbs.insert(entry.first);
    if (websocket)
        verbs.insert(http::verb::get);
    if (verbs.count(http::verb::get) != 0)
        verbs.insert(http::verb::head);
    std::string out;
    for (auto verb : verbs) {
        if (!out.empty())
            out += ", ";
        out += std::string(http::to_string(verb));
    }
    return out;
}

problem upgrade_required()
{
    // RFC 9110 15.5.22: a 426 names the protocol to switch to in `Upgrade`.
    return problem(http::status::upgrade_required, "UPGRADE_REQUIRED",
                   "this resource is a WebSocket endpoint; connect with Upgrade: websocket")
        .with_header("Upgrade", "websocket");
}

// What match() hands out for a plain request on a WebSocket-only route.
net::awaitable<response> refuse_plain_request(request&, request_context&)
{
    throw upgrade_required();
    co_return response{}; // makes this a coroutine; never reached
}

/** The node for `pattern`, created as needed; throws std::invalid_argument for a bad pattern. */
template <class Node>
Node& node_for(Node& root, std::string_view pattern)
{
    Node* n = &root;
    bool ok = for_each_segment(pattern, [&](std::string_view seg) {
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            std::string name(seg.substr(1, seg.size() - 2));
            if (!n->param) {
                n->param = std::make_unique<Node>();
                n->param_name = name;
            } else if (n->param_name != name) {
                return false; // one parameter name per position keeps matches unambiguous
            }
            n = n->param.get();
        } else {
            auto& child = n->literals[std::string(seg)];
            if (!child)
                child = std::make_unique<Node>();
            n = child.get();
        }
        return true;
    });
    if (!ok)
        throw std::invalid_argument("bad route pattern " + std::string(pattern));
    return *n;
}

} // namespace

void router::add(http::verb method, std::string_view pattern, handler h)
{
    node& n = node_for(*root_, pattern);
    if (n.handlers.count(method) != 0)
        throw std::invalid_argument("duplicate route " + std::string(pattern));
    n.handlers[method] = std::move(h);
    n.pattern = std::string(pattern);
}

void router::add_websocket(std::string_view pattern, ws_handler h, ws_admit admit)
{
    node& n = node_for(*root_, pattern);
    if (n.ws)
        throw std::invalid_argument("duplicate WebSocket route " + std::string(pattern));
    n.ws = std::make_shared<const ws_handler>(std::move(h));
    n.admit = std::move(admit);
    n.pattern = std::string(pattern);
}

std::string_view target_path(std::string_view target)
{
    auto q = target.find_first_of("?#");
    return target.substr(0, q);
}

const router::node& router::resolve(http::verb method, std::string_view path, request_context& ctx) const
{
    // Depth-first: a literal segment is tried before the parameter at the same position.
    std::vector<std::string_view> segs;
    if (!for_each_segment(path, [&](std::string_view s) {
            segs.push_back(s);
            return true;
        }))
        throw not_found();
    // A node matches when its path does and it serves the method; a literal route that does not
    // serve the method leaves room for a parameter route that does. A WebSocket route serves GET (and
    // HEAD, which dispatch then refuses with 426 like a plain GET).
    bool get_like = method == http::verb::get || method == http::verb::head;
    auto serves = [method, get_like](const node* n) {
        return n->handlers.count(method) != 0 ||
               (method == http::verb::head && n->handlers.count(http::verb::get) != 0) || (get_like && n->ws);
    };
    const node* found = nullptr;
    const node* path_only = nullptr; // the first node whose path matched, for a 405
    std::vector<std::pair<std::string, std::string>> captured;
    auto walk = [&](auto& self, const node* n, std::size_t i) -> bool {
        if (i == segs.size()) {
            if (!n->has_routes())
                return false;
            if (path_only == nullptr)
                path_only = n;
            if (!serves(n))
                return false;
            found = n;
            return true;
        }
        if (auto it = n->literals.find(segs[i]); it != n->literals.end() && self(self, it->second.get(), i + 1))
            return true;
        if (n->param && !segs[i].empty()) {
            captured.emplace_back(n->param_name, std::string(segs[i]));
            if (self(self, n->param.get(), i + 1))
                return true;
            captured.pop_back();
        }
        return false;
    };
    if (!walk(walk, root_.get(), 0)) {
        if (path_only == nullptr)
            throw not_found();
        throw problem(http::status::method_not_allowed, "METHOD_NOT_ALLOWED",
                      "this resource does not support " + std::string(http::to_string(method)))
            .with_header("Allow", allow_header(path_only->handlers, path_only->ws != nullptr));
    }
    path_params params;
    for (auto& [k, v] : captured)
        params.add(std::move(k), std::move(v));
    ctx.params = std::move(params);
    ctx.route = found->pattern;
    return *found;
}

namespace {

/** The HTTP handler of `n` for `method` (HEAD falls back to GET), or nullptr. */
template <class Node>
const handler* http_handler(const Node& n, http::verb method)
{
    auto h = n.handlers.find(method);
    if (h == n.handlers.end() && method == http::verb::head)
        h = n.handlers.find(http::verb::get);
    return h == n.handlers.end() ? nullptr : &h->second;
}

} // namespace

const handler* router::match(http::verb method, std::string_view path, request_context& ctx) const
{
    const node& n = resolve(method, path, ctx);
    if (const handler* h = http_handler(n, method))
        return h;
    // A WebSocket-only route reached without the upgrade.
    static const handler refuse = refuse_plain_request;
    return &refuse;
}

net::awaitable<response> router::dispatch(request& req, request_context& ctx) const
{
    const node& n = resolve(req.method(), target_path(req.target()), ctx);
    if (n.ws && req.method() == http::verb::get && websocket::is_upgrade(req)) {
        // The server sees ctx.websocket, does the handshake and runs the endpoint; this answer stands for
        // the handshake's own 101 (headers set on it are copied onto the handshake response).
        if (n.admit)
            co_await n.admit(req, ctx);
        ctx.websocket = n.ws;
        co_return response{http::status::switching_protocols, req.version()};
    }
    const handler* h = http_handler(n, req.method());
    if (h == nullptr)
        throw upgrade_required();
    co_return co_await (*h)(req, ctx);
}

std::vector<router::route_entry> router::routes() const
{
    std::vector<route_entry> out;
    auto walk = [&out](auto& self, const node& n) -> void {
        for (const auto& entry : n.handlers)
            out.push_back(route_entry{entry.first, n.pattern, false});
        if (n.ws)
            out.push_back(route_entry{http::verb::get, n.pattern, true});
        for (const auto& child : n.literals)
            self(self, *child.second);
        if (n.param)
            self(self, *n.param);
    };
    walk(walk, *root_);
    std::sort(out.begin(), out.end(), [](const route_entry& a, const route_entry& b) {
        return std::tie(a.pattern, a.method, a.websocket) < std::tie(b.pattern, b.method, b.websocket);
    });
    return out;
}

handler router::as_handler() const
{
    return [this](request& req, request_context& ctx) { return dispatch(req, ctx); };
}

} // namespace common::web
