#include "common/db/pg_array.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(pg_array)

BOOST_AUTO_TEST_CASE(integers)
{
    BOOST_TEST(common::db::int_array(std::vector<std::int64_t>{}) == "{}");
    BOOST_TEST(common::db::int_array(std::vector<std::int64_t>{1, -2, 30}) == "{1,-2,30}");
    struct row { std::int64_t seq; };
    BOOST_TEST(common::db::int_array(std::vector<row>{{7}, {8}}, &row::seq) == "{7,8}");
}

BOOST_AUTO_TEST_CASE(texts_are_quoted_and_escaped)
{
    BOOST_TEST(common::db::text_array(std::vector<std::string>{}) == "{}");
    BOOST_TEST(common::db::text_array(std::vector<std::string>{"a", "", "b,c"}) == R"({"a","","b,c"})");
    BOOST_TEST(common::db::text_array(std::vector<std::string>{R"(say "hi" \o/)"}) == R"({"say \"hi\" \\o/"})");
    std::vector<const std::string*> ptrs;
    std::string x = "NULL";
    ptrs.push_back(&x);
    // Quoted: the string NULL, not a null element.
    BOOST_TEST(common::db::text_array(ptrs, [](const std::string* s) -> const std::string& { return *s; }) == R"({"NULL"})");
}

BOOST_AUTO_TEST_SUITE_END()
