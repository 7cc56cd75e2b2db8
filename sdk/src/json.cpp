#include "sluice/json.hpp"
