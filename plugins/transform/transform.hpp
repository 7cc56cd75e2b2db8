// The transform package: transformers change fields, extractors pull values out of text.
//   set_field, copy_field, rename_field, delete_field (wildcards), case, trim, template,
//   hash (stable id), json_parse, date_normalize (→ ISO 8601)
//   regex_extract (named groups), email, url, address (e-mails, URLs, phone numbers)
// Field names are paths (`user.name`); a transformer whose source field is absent passes the
// packet on unchanged, so optional fields need no guard in front.
#pragma once

#include "set_field.hpp"
#include "copy_field.hpp"
#include "rename_field.hpp"
#include "delete_field.hpp"
#include "case.hpp"
#include "trim.hpp"
#include "template.hpp"
#include "hash.hpp"
#include "json_parse.hpp"
#include "date_normalize.hpp"
#include "regex_extract.hpp"
#include "email.hpp"
#include "url.hpp"
#include "address.hpp"
