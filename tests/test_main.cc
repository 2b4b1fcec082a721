// The Catch2 entry point for the unit_tests binary; each *_test.cc adds its TEST_CASEs.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
