// The publish package: sinks at the end of a graph.
//   collect     hands each packet back to the submitter (REST ?wait=true, `sluice run` output)
//   counter     counts packets and logs the count
//   null        discards packets
//   log         pretty-prints packets to stderr
//   jsonl_file  appends packets as JSON lines, safe with many writers, rotation, fsync policy
//   csv_file    appends chosen fields as CSV rows, same file guarantees
//   http        POSTs each packet as JSON to a URL, with timeout and retries
#pragma once

#include "collect.hpp"
#include "counter.hpp"
#include "null.hpp"
#include "log.hpp"
#include "line_file_sink.hpp"
#include "jsonl_file.hpp"
#include "csv_file.hpp"
#include "http_publisher.hpp"
