#include "probe.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace mblive {

proc_sample sample(int pid)
{
    proc_sample p;
    if (pid <= 0)
        return p;
    std::string base = "/proc/" + std::to_string(pid);
    std::ifstream status(base + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            p.rss_kb = std::stol(line.substr(6));
    std::ifstream stat_file(base + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(stat.substr(close + 2));
        std::vector<std::string> f;
        for (std::string x; fields >> x && f.size() < 13;)
            f.push_back(x);
        // Fields 14 and 15 of stat(5), utime and stime, are the 12th and 13th after the name.
        if (f.size() == 13)
            p.cpu_s = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) /
                      static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    return p;
}

double self_cpu_s()
{
    return sample(static_cast<int>(getpid())).cpu_s;
}

} // namespace mblive
