#pragma once

// The problem a piece of code throws, for tests of what the web layer refuses.

#include "common/web/problem.hpp"

#include <boost/test/unit_test.hpp>

#include <stdexcept>

namespace test {

/** The problem `f` throws; fails the test when it throws nothing (anything else propagates). */
template <class F>
common::web::problem problem_of(F&& f)
{
    try {
        f();
    } catch (const common::web::problem& p) {
        return p;
    }
    BOOST_FAIL("expected a problem to be thrown");
    throw std::logic_error("unreachable");
}

} // namespace test
