// REQUIRE_OK(expr): a Catch2 REQUIRE that a ledger::Status is ok, printing the reason if not.
#pragma once

#include <catch2/catch.hpp>

#include "ledger/status.h"

#define REQUIRE_OK(expr)          \
  do {                            \
    ::ledger::Status _s = (expr); \
    INFO(_s.ToString());          \
    REQUIRE(_s.ok());             \
  } while (0)
