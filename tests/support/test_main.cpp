// The one translation unit of each test executable that defines main (Boost.Test, shared library).
#define BOOST_TEST_MODULE modebridge
#include <boost/test/unit_test.hpp>
