// The adapters package: raw packets (bytes in field `data`, type in meta `mimetype`) → structured
// packets.
//   json_adapter    a JSON object or an array of objects
//   ndjson_adapter  one packet per line of newline-delimited JSON
//   csv_adapter     one packet per row; the header row (or column1..N) names the fields
//   text_adapter    one packet per line, or the whole text
//   xml_adapter     one packet per record element; fields by XPath, or the element as JSON
//   html_adapter    title, visible text and links of a page
// Every adapter passes packets of another mimetype (or none) to its `unmatched` port, so
// nothing is dropped silently; children keep the raw packet's metadata.
#pragma once

#include "json_adapter.hpp"
#include "ndjson_adapter.hpp"
#include "csv_adapter.hpp"
#include "text_adapter.hpp"
#include "xml_adapter.hpp"
#include "html_adapter.hpp"
