// The settings of both services (common::config::load_service_settings, gateway::load_settings,
// ingest::load_settings) read from an environment built from the input. A bad setting is a
// common::config::error naming the variable; nothing else may escape the loaders.
//
// Input: lines NAME=VALUE. A secret given as NAME_FILE=VALUE is read from a file holding VALUE.
#include "settings.hpp"
#include "webhook-ingest/src/settings.hpp"

#include "common/config.hpp"
#include "common/log.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

namespace {

// A directory of this process for the NAME_FILE files, removed at exit.
struct scratch
{
    std::string path = "/tmp/mb-fuzz-config-XXXXXX";
    scratch()
    {
        if (mkdtemp(path.data()) == nullptr)
            std::abort();
    }
    ~scratch() { std::filesystem::remove_all(path); }
};

const std::string& scratch_dir()
{
    static const scratch dir;
    return dir.path;
}

bool ends_with(std::string_view s, std::string_view tail)
{
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    common::log::init("fuzz_config", common::log::level::error);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::map<std::string, std::string> vars;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty()) {
        auto nl = input.find('\n');
        auto line = input.substr(0, nl);
        input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
        auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0)
            continue;
        vars[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
    // NAME_FILE holds a path: the value goes into a file of ours (never a path from the input).
    std::map<std::string, std::string> env_vars;
    for (const auto& [name, value] : vars) {
        if (ends_with(name, "_FILE") && name.rfind("MB_TLS_", 0) != 0) {
            auto path = scratch_dir() + "/" + std::to_string(env_vars.size());
            std::ofstream(path, std::ios::binary | std::ios::trunc) << value;
            env_vars[name] = path;
        } else {
            env_vars[name] = value;
        }
    }
    common::config::env e([&env_vars](const std::string& name) -> std::optional<std::string> {
        auto it = env_vars.find(name);
        if (it == env_vars.end())
            return std::nullopt;
        return it->second;
    });
    auto check = [&](auto&& load) {
        try {
            load();
        } catch (const common::config::error& err) {
            // (That it never repeats a value is config_test's to show: here the fuzzer would copy the
            // messages' own words into values.)
            if (std::string_view(err.what()).find("MB_") == std::string_view::npos)
                std::abort(); // names the variable
        }
    };
    check([&] { (void)common::config::load_service_settings(e, ":8080"); });
    check([&] { (void)ingest::load_settings(e); });
    check([&] { (void)gateway::load_settings(e); });
    return 0;
}
