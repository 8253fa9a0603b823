/* tools/text_escape.h: no control byte from a report reaches a terminal. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "tools/text_escape.h"

static char *escape_one(const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "exe", value);
    cr_assert(grey_escape_controls(o));
    char *out = strdup(cJSON_GetObjectItemCaseSensitive(o, "exe")->valuestring);
    cJSON_Delete(o);
    return out;
}

Test(text_escape, c0_del_and_c1_become_hex)
{
    char *s = escape_one("a\x1b]0;x\x07" "b\r\n\x7f" "c\xc2\x9b" "d");
    cr_assert_str_eq(s, "a\\x1b]0;x\\x07b\\x0d\\x0a\\x7fc\\xc2\\x9bd");
    free(s);
}

Test(text_escape, a_lone_c1_byte_is_escaped_and_utf8_is_kept)
{
    char *s = escape_one("\x9b" "2J caf\xc3\xa9 \xe2\x82\xac");
    cr_assert_str_eq(s, "\\x9b2J caf\xc3\xa9 \xe2\x82\xac", "got %s", s);
    free(s);
}

Test(text_escape, keys_and_nested_values_too)
{
    cJSON *root = cJSON_Parse("{\"a\\u001b\": [{\"f\": \"x\\u0007\"}], \"n\": 5}");
    cr_assert_not_null(root);
    cr_assert(grey_escape_controls(root));
    char *text = cJSON_PrintUnformatted(root);
    cr_assert_str_eq(text, "{\"a\\\\x1b\":[{\"f\":\"x\\\\x07\"}],\"n\":5}", "got %s", text);
    cJSON_free(text);
    cJSON_Delete(root);
}

Test(text_escape, raw_controls_in_json_text)
{
    cr_assert_not(grey_has_raw_controls("{\"a\": \"\\u001b\"}\n\t\r"), "escaped in JSON: harmless");
    cr_assert(grey_has_raw_controls("{\"a\": \"\x1b\"}"));
}
