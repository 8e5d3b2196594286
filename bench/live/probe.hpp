// mb-live's view of processes through /proc: the target's memory and CPU time, and mb-live's own CPU time.
#pragma once

namespace mblive {

// What /proc says of the process being measured: RSS in kB, and CPU time (user + system) in seconds.
struct proc_sample
{
    long rss_kb = -1;
    double cpu_s = -1;
};

// RSS and CPU time of `pid` (fields left at -1 when pid <= 0 or /proc does not say).
proc_sample sample(int pid);

// mb-live's own CPU time (user + system) in seconds, or -1.
double self_cpu_s();

} // namespace mblive
