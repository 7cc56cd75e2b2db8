// The flow package: filters and operators that decide where packets go.
//   drop, keep  filter by a condition (docs/conditions.md)
//   route       sends each packet to the out port of the first (or every) matching condition
//   dedupe      passes the first packet of each key within a bounded window
//   sample      passes a fraction of the packets, randomly or consistently by key
//   split       one packet per element of an array field
//   batch       n packets or t milliseconds → one packet holding them
//   unbatch     the inverse of batch
//   merge       pairs packets from two inputs by key; unpaired ones leave after a timeout
#pragma once

#include "drop.hpp"
#include "keep.hpp"
#include "route.hpp"
#include "dedupe.hpp"
#include "sample.hpp"
#include "split.hpp"
#include "unbatch.hpp"
#include "batch.hpp"
#include "merge.hpp"
