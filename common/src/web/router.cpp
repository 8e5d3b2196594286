#include "common/web/router.hpp"

#include "common/web/problem.hpp"

#include <map>
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
    std::string pattern;
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

std::string allow_header(const std::map<http::verb, handler>& handlers)
{
    // HEAD is served wherever GET is (match falls back to it), so it is allowed there too.
    std::set<http::verb> verbs;
    for (const auto& entry : handlers)
        verbs.insert(entry.first);
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

} // namespace

void router::add(http::verb method, std::string_view pattern, handler h)
{
    node* n = root_.get();
    bool ok = for_each_segment(pattern, [&](std::string_view seg) {
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            std::string name(seg.substr(1, seg.size() - 2));
            if (!n->param) {
                n->param = std::make_unique<node>();
                n->param_name = name;
            } else if (n->param_name != name) {
                return false; // one parameter name per position keeps matches unambiguous
            }
            n = n->param.get();
        } else {
            auto& child = n->literals[std::string(seg)];
            if (!child)
                child = std::make_unique<node>();
            n = child.get();
        }
        return true;
    });
    if (!ok)
        throw std::invalid_argument("bad route pattern " + std::string(pattern));
    if (n->handlers.count(method) != 0)
        throw std::invalid_argument("duplicate route " + std::string(pattern));
    n->handlers[method] = std::move(h);
    n->pattern = std::string(pattern);
}

std::string_view target_path(std::string_view target)
{
    auto q = target.find_first_of("?#");
    return target.substr(0, q);
}

const handler* router::match(http::verb method, std::string_view path, request_context& ctx) const
{
    // Depth-first: a literal segment is tried before the parameter at the same position.
    path_params params;
    std::vector<std::string_view> segs;
    if (!for_each_segment(path, [&](std::string_view s) {
            segs.push_back(s);
            return true;
        }))
        throw not_found();
    // A node matches when its path does and it serves the method; a literal route that does not
    // serve the method leaves room for a parameter route that does.
    auto serves = [method](const node* n) {
        return n->handlers.count(method) != 0 || (method == http::verb::head && n->handlers.count(http::verb::get) != 0);
    };
    const node* found = nullptr;
    const node* path_only = nullptr; // the first node whose path matched, for a 405
    std::vector<std::pair<std::string, std::string>> captured;
    auto walk = [&](auto& self, const node* n, std::size_t i) -> bool {
        if (i == segs.size()) {
            if (n->handlers.empty())
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
            .with_header("Allow", allow_header(path_only->handlers));
    }
    auto h = found->handlers.find(method);
    if (h == found->handlers.end())
        h = found->handlers.find(http::verb::get); // HEAD served by GET
    for (auto& [k, v] : captured)
        params.add(std::move(k), std::move(v));
    ctx.params = std::move(params);
    ctx.route = found->pattern;
    return &h->second;
}

net::awaitable<response> router::dispatch(request& req, request_context& ctx) const
{
    const handler* h = match(req.method(), target_path(req.target()), ctx);
    co_return co_await (*h)(req, ctx);
}

handler router::as_handler() const
{
    return [this](request& req, request_context& ctx) { return dispatch(req, ctx); };
}

} // namespace common::web
