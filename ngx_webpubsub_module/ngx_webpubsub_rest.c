
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * The Web PubSub REST API as the official SDKs call it: the operations,
 * the checks the SDKs make before a call, and the method, path, query
 * and body they send.  Plain C99, no nginx, like the rest of the core.
 */


#include <string.h>

#include "ngx_webpubsub_rest.h"


/* a parameter as a bit of an operation's required, allowed, repeated */
#define ngx_webpubsub_rest_bit(name)  (1u << NGX_WEBPUBSUB_REST_##name)


static int ngx_webpubsub_rest_dots(const unsigned char *v, size_t len);
static int ngx_webpubsub_rest_numeric(int param);
static int ngx_webpubsub_rest_int(const unsigned char *v, size_t len,
    int64_t min, int64_t max, int64_t *n);
static const char *ngx_webpubsub_rest_check_group(const unsigned char *v,
    size_t len);
static unsigned char *ngx_webpubsub_rest_number(unsigned char *dst,
    int64_t n);
static size_t ngx_webpubsub_percent_length(const unsigned char *s, size_t n,
    int query);
static unsigned char *ngx_webpubsub_percent(unsigned char *dst,
    const unsigned char *s, size_t n, int query);


typedef struct {
    const char  *name;      /* in webpubsub_rest */
    const char  *query;     /* in the service's query string */
    const char  *fallback;  /* sent when absent, as the SDK sends it */
} ngx_webpubsub_rest_param_t;


static const ngx_webpubsub_rest_param_t  ngx_webpubsub_rest_params[] = {
    { "user",          "userId",            NULL },
    { "group",         "group",             NULL },
    { "connection",    NULL,                NULL },
    { "filter",        "filter",            NULL },
    { "excluded",      "excluded",          NULL },
    { "ttl",           "messageTtlSeconds", NULL },
    { "reason",        "reason",            NULL },
    { "permission",    NULL,                NULL },
    { "target",        "targetName",        NULL },
    { "max_page_size", "maxpagesize",       NULL },
    { "top",           "top",               NULL },
    { "role",          "role",              NULL },
    { "ttl_minutes",   "minutesToExpire",   "60" },
    { "protocol",      "clientType",        NULL }
};


#define NGX_WEBPUBSUB_Q_END  -1

#define NGX_WEBPUBSUB_REST_JSON  "application/json"

/*
 * The 25 operations of api-version 2024-12-01, named as the SDKs name
 * them, with the query parameters in the order the JS SDK writes them.
 */

static const ngx_webpubsub_rest_op_t  ngx_webpubsub_rest_ops[] = {

    { "send_to_all", "POST", "api/hubs/{hub}/:send", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_MESSAGE, NGX_WEBPUBSUB_REST_PLAIN,
      0,
      ngx_webpubsub_rest_bit(EXCLUDED) | ngx_webpubsub_rest_bit(FILTER)
      | ngx_webpubsub_rest_bit(TTL),
      ngx_webpubsub_rest_bit(EXCLUDED),
      { NGX_WEBPUBSUB_REST_EXCLUDED, NGX_WEBPUBSUB_REST_FILTER,
        NGX_WEBPUBSUB_REST_TTL, NGX_WEBPUBSUB_Q_END } },

    { "send_to_user", "POST", "api/hubs/{hub}/users/{user}/:send",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_MESSAGE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(USER),
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(FILTER)
      | ngx_webpubsub_rest_bit(TTL),
      0,
      { NGX_WEBPUBSUB_REST_FILTER, NGX_WEBPUBSUB_REST_TTL,
        NGX_WEBPUBSUB_Q_END } },

    { "send_to_group", "POST", "api/hubs/{hub}/groups/{group}/:send",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_MESSAGE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP) | ngx_webpubsub_rest_bit(EXCLUDED)
      | ngx_webpubsub_rest_bit(FILTER) | ngx_webpubsub_rest_bit(TTL),
      ngx_webpubsub_rest_bit(EXCLUDED),
      { NGX_WEBPUBSUB_REST_EXCLUDED, NGX_WEBPUBSUB_REST_FILTER,
        NGX_WEBPUBSUB_REST_TTL, NGX_WEBPUBSUB_Q_END } },

    { "send_to_connection", "POST",
      "api/hubs/{hub}/connections/{connection}/:send", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_MESSAGE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(TTL),
      0,
      { NGX_WEBPUBSUB_REST_TTL, NGX_WEBPUBSUB_Q_END } },

    { "add_user_to_group", "PUT", "api/hubs/{hub}/users/{user}/groups/{group}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(GROUP),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "remove_user_from_group", "DELETE",
      "api/hubs/{hub}/users/{user}/groups/{group}", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(GROUP),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "add_connection_to_group", "PUT",
      "api/hubs/{hub}/groups/{group}/connections/{connection}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(GROUP),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "remove_connection_from_group", "DELETE",
      "api/hubs/{hub}/groups/{group}/connections/{connection}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(GROUP),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "remove_connection_from_all_groups", "DELETE",
      "api/hubs/{hub}/connections/{connection}/groups",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION),
      ngx_webpubsub_rest_bit(CONNECTION),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "remove_user_from_all_groups", "DELETE",
      "api/hubs/{hub}/users/{user}/groups", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(USER),
      ngx_webpubsub_rest_bit(USER),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "add_connections_to_groups", "POST", "api/hubs/{hub}/:addToGroups",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_GROUPS, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP) | ngx_webpubsub_rest_bit(FILTER),
      ngx_webpubsub_rest_bit(GROUP),
      { NGX_WEBPUBSUB_Q_END } },

    { "remove_connections_from_groups", "POST",
      "api/hubs/{hub}/:removeFromGroups", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_GROUPS, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP) | ngx_webpubsub_rest_bit(FILTER),
      ngx_webpubsub_rest_bit(GROUP),
      { NGX_WEBPUBSUB_Q_END } },

    { "list_connections", "GET", "api/hubs/{hub}/groups/{group}/connections",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_LIST,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP) | ngx_webpubsub_rest_bit(MAX_PAGE_SIZE)
      | ngx_webpubsub_rest_bit(TOP),
      0,
      { NGX_WEBPUBSUB_REST_MAX_PAGE_SIZE, NGX_WEBPUBSUB_REST_TOP,
        NGX_WEBPUBSUB_Q_END } },

    { "connection_exists", "HEAD", "api/hubs/{hub}/connections/{connection}",
      NULL,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_EXISTS,
      ngx_webpubsub_rest_bit(CONNECTION),
      ngx_webpubsub_rest_bit(CONNECTION),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "user_exists", "HEAD", "api/hubs/{hub}/users/{user}", NULL,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_EXISTS,
      ngx_webpubsub_rest_bit(USER),
      ngx_webpubsub_rest_bit(USER),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "group_exists", "HEAD", "api/hubs/{hub}/groups/{group}", NULL,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_EXISTS,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP),
      0,
      { NGX_WEBPUBSUB_Q_END } },

    { "close_connection", "DELETE", "api/hubs/{hub}/connections/{connection}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(REASON),
      0,
      { NGX_WEBPUBSUB_REST_REASON, NGX_WEBPUBSUB_Q_END } },

    { "close_all_connections", "POST", "api/hubs/{hub}/:closeConnections",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      0,
      ngx_webpubsub_rest_bit(EXCLUDED) | ngx_webpubsub_rest_bit(REASON),
      ngx_webpubsub_rest_bit(EXCLUDED),
      { NGX_WEBPUBSUB_REST_EXCLUDED, NGX_WEBPUBSUB_REST_REASON,
        NGX_WEBPUBSUB_Q_END } },

    { "close_user_connections", "POST",
      "api/hubs/{hub}/users/{user}/:closeConnections", NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(USER),
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(EXCLUDED)
      | ngx_webpubsub_rest_bit(REASON),
      ngx_webpubsub_rest_bit(EXCLUDED),
      { NGX_WEBPUBSUB_REST_EXCLUDED, NGX_WEBPUBSUB_REST_REASON,
        NGX_WEBPUBSUB_Q_END } },

    { "close_group_connections", "POST",
      "api/hubs/{hub}/groups/{group}/:closeConnections",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(GROUP),
      ngx_webpubsub_rest_bit(GROUP) | ngx_webpubsub_rest_bit(EXCLUDED)
      | ngx_webpubsub_rest_bit(REASON),
      ngx_webpubsub_rest_bit(EXCLUDED),
      { NGX_WEBPUBSUB_REST_EXCLUDED, NGX_WEBPUBSUB_REST_REASON,
        NGX_WEBPUBSUB_Q_END } },

    { "grant_permission", "PUT",
      "api/hubs/{hub}/permissions/{permission}/connections/{connection}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION)
      | ngx_webpubsub_rest_bit(TARGET),
      0,
      { NGX_WEBPUBSUB_REST_TARGET, NGX_WEBPUBSUB_Q_END } },

    { "revoke_permission", "DELETE",
      "api/hubs/{hub}/permissions/{permission}/connections/{connection}",
      NGX_WEBPUBSUB_REST_JSON,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION)
      | ngx_webpubsub_rest_bit(TARGET),
      0,
      { NGX_WEBPUBSUB_REST_TARGET, NGX_WEBPUBSUB_Q_END } },

    { "check_permission", "HEAD",
      "api/hubs/{hub}/permissions/{permission}/connections/{connection}", NULL,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_EXISTS,
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION),
      ngx_webpubsub_rest_bit(CONNECTION) | ngx_webpubsub_rest_bit(PERMISSION)
      | ngx_webpubsub_rest_bit(TARGET),
      0,
      { NGX_WEBPUBSUB_REST_TARGET, NGX_WEBPUBSUB_Q_END } },

    { "generate_client_token", "POST", "api/hubs/{hub}/:generateToken",
      "application/json, text/json",
      NGX_WEBPUBSUB_REST_EMPTY, NGX_WEBPUBSUB_REST_TOKEN,
      0,
      ngx_webpubsub_rest_bit(USER) | ngx_webpubsub_rest_bit(ROLE)
      | ngx_webpubsub_rest_bit(TTL_MINUTES) | ngx_webpubsub_rest_bit(GROUP)
      | ngx_webpubsub_rest_bit(PROTOCOL),
      ngx_webpubsub_rest_bit(ROLE) | ngx_webpubsub_rest_bit(GROUP),
      { NGX_WEBPUBSUB_REST_USER, NGX_WEBPUBSUB_REST_ROLE,
        NGX_WEBPUBSUB_REST_TTL_MINUTES, NGX_WEBPUBSUB_REST_GROUP,
        NGX_WEBPUBSUB_REST_PROTOCOL, NGX_WEBPUBSUB_Q_END } },

    { "health", "HEAD", "api/health", NULL,
      NGX_WEBPUBSUB_REST_NONE, NGX_WEBPUBSUB_REST_PLAIN,
      0, 0, 0,
      { NGX_WEBPUBSUB_Q_END } },

    { NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, { NGX_WEBPUBSUB_Q_END } }
};


const ngx_webpubsub_rest_op_t *
ngx_webpubsub_rest_op(const unsigned char *name, size_t len)
{
    const ngx_webpubsub_rest_op_t  *op;

    for (op = ngx_webpubsub_rest_ops; op->name; op++) {
        if (strlen(op->name) == len && memcmp(op->name, name, len) == 0) {
            return op;
        }
    }

    return NULL;
}


/* the i-th operation of the table, or NULL past the last */

const ngx_webpubsub_rest_op_t *
ngx_webpubsub_rest_op_at(size_t i)
{
    if (i >= sizeof(ngx_webpubsub_rest_ops) / sizeof(ngx_webpubsub_rest_ops[0])
             - 1)
    {
        return NULL;
    }

    return &ngx_webpubsub_rest_ops[i];
}


/* the number of an operation of the table: its counters' index */

size_t
ngx_webpubsub_rest_op_index(const ngx_webpubsub_rest_op_t *op)
{
    return (size_t) (op - ngx_webpubsub_rest_ops);
}


int
ngx_webpubsub_rest_param(const unsigned char *name, size_t len)
{
    int  i;

    for (i = 0; i < NGX_WEBPUBSUB_REST_NPARAMS; i++) {
        if (strlen(ngx_webpubsub_rest_params[i].name) == len
            && memcmp(ngx_webpubsub_rest_params[i].name, name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
ngx_webpubsub_rest_param_name(int param)
{
    return ngx_webpubsub_rest_params[param].name;
}


/* a decimal integer as JavaScript's Number() would read it, bounded */

static int
ngx_webpubsub_rest_int(const unsigned char *v, size_t len, int64_t min,
    int64_t max, int64_t *n)
{
    size_t   i;
    int64_t  value;

    /* leading zeros do not count against the 18 digits that fit */
    for (i = 0; len > 1 && v[i] == '0' && i < len - 1; i++) {
        /* void */
    }

    v += i;
    len -= i;

    if (len == 0 || len > 18) {
        return 0;
    }

    value = 0;

    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return 0;
        }

        value = value * 10 + (v[i] - '0');
    }

    if (value < min || value > max) {
        return 0;
    }

    *n = value;

    return 1;
}


/*
 * The SDK's rule for a group name: 1 to 1024 UTF-16 code units matching
 * /^(?!\s+$).+$/, so not only white space, and no line terminator, which
 * "." does not match.
 */

static const char *
ngx_webpubsub_rest_check_group(const unsigned char *v, size_t len)
{
    int                   valid, space;
    size_t                n, units;
    uint32_t              cp;
    const unsigned char  *p, *end;

    units = 0;
    space = 1;
    end = v + len;

    for (p = v; p < end; p += n) {
        n = ngx_webpubsub_utf8_next(p, end, &valid);

        if (!valid) {
            return "is not valid UTF-8";
        }

        cp = ngx_webpubsub_utf8_value(p, n);

        if (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029) {
            return "must not contain a line break";
        }

        units += (cp >= 0x10000) ? 2 : 1;

        if (!ngx_webpubsub_js_space(cp)) {
            space = 0;
        }
    }

    if (units > NGX_WEBPUBSUB_GROUP_MAX) {
        return "is longer than 1024 characters";
    }

    if (space) {
        return "must not be only white space";
    }

    return NULL;
}


/*
 * "." and ".." are path segments, not names: URL normalisation (the SDK's
 * own, or any proxy's) would turn a send to user ".." into a send to all.
 */

static int
ngx_webpubsub_rest_dots(const unsigned char *v, size_t len)
{
    return (len == 1 && v[0] == '.')
           || (len == 2 && v[0] == '.' && v[1] == '.');
}


/*
 * One value of a parameter, as the SDK (or the service, where the SDK
 * does not check) would take it; values are never empty here.
 */

const char *
ngx_webpubsub_rest_check_value(int param, const unsigned char *v, size_t len)
{
    int64_t  n;

    switch (param) {

    case NGX_WEBPUBSUB_REST_GROUP:
        if (ngx_webpubsub_rest_dots(v, len)) {
            return "must not be \".\" or \"..\"";
        }

        return ngx_webpubsub_rest_check_group(v, len);

    case NGX_WEBPUBSUB_REST_USER:
    case NGX_WEBPUBSUB_REST_CONNECTION:
        if (ngx_webpubsub_rest_dots(v, len)) {
            return "must not be \".\" or \"..\"";
        }

        break;

    case NGX_WEBPUBSUB_REST_TTL:
        if (!ngx_webpubsub_rest_int(v, len, 0, 300, &n)) {
            return "must be a whole number of seconds from 0 to 300";
        }

        return NULL;

    case NGX_WEBPUBSUB_REST_MAX_PAGE_SIZE:
        if (!ngx_webpubsub_rest_int(v, len, 1, 200, &n)) {
            return "must be a whole number from 1 to 200";
        }

        return NULL;

    case NGX_WEBPUBSUB_REST_TOP:
    case NGX_WEBPUBSUB_REST_TTL_MINUTES:
        if (!ngx_webpubsub_rest_int(v, len, 1, 2147483647, &n)) {
            return "must be a whole number from 1 to 2147483647";
        }

        return NULL;

    case NGX_WEBPUBSUB_REST_PERMISSION:
        if ((len == 11 && memcmp(v, "sendToGroup", 11) == 0)
            || (len == 14 && memcmp(v, "joinLeaveGroup", 14) == 0))
        {
            return NULL;
        }

        return "must be \"sendToGroup\" or \"joinLeaveGroup\"";

    case NGX_WEBPUBSUB_REST_PROTOCOL:
        if ((len == 7 && memcmp(v, "default", 7) == 0)
            || (len == 4 && memcmp(v, "mqtt", 4) == 0)
            || (len == 8 && memcmp(v, "socketio", 8) == 0))
        {
            return NULL;
        }

        return "must be \"default\", \"mqtt\" or \"socketio\"";

    default:
        break;
    }

    if (len > NGX_WEBPUBSUB_VALUE_MAX) {
        return "is longer than 4096 bytes";
    }

    if (!ngx_webpubsub_utf8_valid(v, len)) {
        return "is not valid UTF-8";
    }

    return NULL;
}


/*
 * What the values of a request lack as a whole: a required parameter,
 * or more values than one parameter may have.  *param names the culprit.
 */

const char *
ngx_webpubsub_rest_check(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args, int *param)
{
    int  i;

    for (i = 0; i < NGX_WEBPUBSUB_REST_NPARAMS; i++) {
        *param = i;

        if (args->n[i] == 0) {
            if (op->required & (1u << i)) {
                return "is required";
            }

            continue;
        }

        if (!(op->allowed & (1u << i))) {
            return "is not used by this operation";
        }

        if (args->n[i] > 1 && !(op->repeated & (1u << i))) {
            return "is given more than once";
        }

        if (args->n[i] > NGX_WEBPUBSUB_REST_VALUES_MAX) {
            return "has more than 100 values";
        }
    }

    return NULL;
}


/*
 * encodeURIComponent(), and in the query what a WHATWG URL then adds to
 * it for http(s): "'" becomes %27 there.  Bytes are encoded one by one,
 * which is encodeURIComponent() of the string they spell when they are
 * UTF-8, and values are checked to be so.
 */

static const uint32_t  ngx_webpubsub_unreserved[] = {
    0x00000000,
                /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
    0x03ff6782, /* 0000 0011 1111 1111  0110 0111 1000 0010 */
                /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
    0x87fffffe, /* 1000 0111 1111 1111  1111 1111 1111 1110 */
                /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
    0x47fffffe, /* 0100 0111 1111 1111  1111 1111 1111 1110 */
    0, 0, 0, 0
};


#define ngx_webpubsub_keep(c, query)                                        \
    ((ngx_webpubsub_unreserved[(c) >> 5] & (1u << ((c) & 0x1f)))            \
     && !((query) && (c) == '\''))


static size_t
ngx_webpubsub_percent_length(const unsigned char *s, size_t n, int query)
{
    size_t  i, len;

    len = n;

    for (i = 0; i < n; i++) {
        if (!ngx_webpubsub_keep(s[i], query)) {
            len += 2;
        }
    }

    return len;
}


static unsigned char *
ngx_webpubsub_percent(unsigned char *dst, const unsigned char *s, size_t n,
    int query)
{
    size_t                      i;
    static const unsigned char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < n; i++) {
        if (ngx_webpubsub_keep(s[i], query)) {
            *dst++ = s[i];

        } else {
            *dst++ = '%';
            *dst++ = hex[s[i] >> 4];
            *dst++ = hex[s[i] & 0xf];
        }
    }

    return dst;
}


size_t
ngx_webpubsub_uri_component_length(const unsigned char *s, size_t n)
{
    return ngx_webpubsub_percent_length(s, n, 0);
}


unsigned char *
ngx_webpubsub_uri_component(unsigned char *dst, const unsigned char *s,
    size_t n)
{
    return ngx_webpubsub_percent(dst, s, n, 0);
}


/*
 * An operation's path template, "api/hubs/{hub}/users/{user}", as texts
 * and values, made once so that a call neither parses it nor looks a
 * name up.  A constant hub (hub != NULL) is encoded into the text.  Any
 * error is one of the table: a value in the path is a required parameter.
 */

const char *
ngx_webpubsub_rest_path_compile(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_str_t *hub, ngx_webpubsub_rest_tpl_t *tpl)
{
    int                        value;
    size_t                     len, start;
    const char                *p, *end;
    ngx_webpubsub_rest_seg_t  *seg;

    memset(tpl, 0, sizeof(ngx_webpubsub_rest_tpl_t));

    seg = tpl->seg;
    start = 0;

    for (p = op->path; /* void */; p = end + 1) {
        end = strchr(p, '{');
        len = (end != NULL) ? (size_t) (end - p) : strlen(p);

        if (len > NGX_WEBPUBSUB_REST_TEXT_MAX - tpl->text_len) {
            return "is too long";
        }

        memcpy(tpl->text + tpl->text_len, p, len);
        tpl->text_len += len;

        if (end == NULL) {
            break;
        }

        p = end + 1;
        end = strchr(p, '}');

        if (end == NULL) {
            return "has a \"{\" without a \"}\"";
        }

        if (end - p == 3 && memcmp(p, "hub", 3) == 0) {
            if (hub != NULL) {
                if (ngx_webpubsub_percent_length(hub->data, hub->len, 0)
                    > NGX_WEBPUBSUB_REST_TEXT_MAX - tpl->text_len)
                {
                    return "is too long with the hub";
                }

                tpl->text_len = ngx_webpubsub_percent(tpl->text
                                                      + tpl->text_len,
                                                      hub->data, hub->len, 0)
                                - tpl->text;
                continue;
            }

            value = NGX_WEBPUBSUB_REST_SEG_HUB;
            tpl->hub = 1;

        } else {
            value = ngx_webpubsub_rest_param((const unsigned char *) p,
                                             end - p);

            /* the first value is used: it must be there */
            if (value < 0 || !(op->required & (1u << value))) {
                return "has a value that is not a required parameter";
            }
        }

        if (seg == &tpl->seg[NGX_WEBPUBSUB_REST_SEGS - 1]) {
            return "has too many values";
        }

        seg->len = tpl->text_len - start;
        seg->value = value;
        seg++;
        start = tpl->text_len;
    }

    seg->len = tpl->text_len - start;
    seg->value = NGX_WEBPUBSUB_REST_SEG_END;

    return NULL;
}


/*
 * The path under the endpoint, "api/hubs/chat/...", encoded as the SDK
 * sends it; hub is the request's, unused where the compiled path has it.
 */

size_t
ngx_webpubsub_rest_path_length(const ngx_webpubsub_rest_tpl_t *tpl,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_rest_args_t *args)
{
    size_t                           len;
    const ngx_webpubsub_str_t       *v;
    const ngx_webpubsub_rest_seg_t  *seg;

    len = tpl->text_len;

    for (seg = tpl->seg; seg->value != NGX_WEBPUBSUB_REST_SEG_END; seg++) {
        v = (seg->value == NGX_WEBPUBSUB_REST_SEG_HUB)
            ? hub : &args->v[seg->value][0];
        len += ngx_webpubsub_percent_length(v->data, v->len, 0);
    }

    return len;
}


unsigned char *
ngx_webpubsub_rest_path(unsigned char *dst,
    const ngx_webpubsub_rest_tpl_t *tpl, const ngx_webpubsub_str_t *hub,
    const ngx_webpubsub_rest_args_t *args)
{
    const unsigned char             *text;
    const ngx_webpubsub_str_t       *v;
    const ngx_webpubsub_rest_seg_t  *seg;

    text = tpl->text;

    for (seg = tpl->seg; /* void */; seg++) {
        memcpy(dst, text, seg->len);
        dst += seg->len;
        text += seg->len;

        if (seg->value == NGX_WEBPUBSUB_REST_SEG_END) {
            return dst;
        }

        v = (seg->value == NGX_WEBPUBSUB_REST_SEG_HUB)
            ? hub : &args->v[seg->value][0];
        dst = ngx_webpubsub_percent(dst, v->data, v->len, 0);
    }
}


/* numbers go out as JavaScript prints them: no sign, no leading zeros */

static unsigned char *
ngx_webpubsub_rest_number(unsigned char *dst, int64_t n)
{
    unsigned char  buf[20], *p;

    p = buf + sizeof(buf);

    do {
        *--p = (unsigned char) ('0' + n % 10);
        n /= 10;
    } while (n);

    memcpy(dst, p, buf + sizeof(buf) - p);

    return dst + (buf + sizeof(buf) - p);
}


static int
ngx_webpubsub_rest_numeric(int param)
{
    return param == NGX_WEBPUBSUB_REST_TTL
           || param == NGX_WEBPUBSUB_REST_MAX_PAGE_SIZE
           || param == NGX_WEBPUBSUB_REST_TOP
           || param == NGX_WEBPUBSUB_REST_TTL_MINUTES;
}


/* "api-version=2024-12-01" and then each value, a repeated key per value */

size_t
ngx_webpubsub_rest_query_length(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args)
{
    int          i, q;
    size_t       j, len;
    const char  *name;

    len = sizeof("api-version=" NGX_WEBPUBSUB_API_VERSION) - 1;

    for (i = 0; op->query[i] != NGX_WEBPUBSUB_Q_END; i++) {
        q = op->query[i];
        name = ngx_webpubsub_rest_params[q].query;

        for (j = 0; j < args->n[q]; j++) {
            len += 2 + strlen(name)
                   + ngx_webpubsub_percent_length(args->v[q][j].data,
                                                  args->v[q][j].len, 1);
        }

        if (args->n[q] == 0 && ngx_webpubsub_rest_params[q].fallback) {
            len += 2 + strlen(name)
                   + strlen(ngx_webpubsub_rest_params[q].fallback);
        }
    }

    return len;
}


unsigned char *
ngx_webpubsub_rest_query(unsigned char *dst,
    const ngx_webpubsub_rest_op_t *op, const ngx_webpubsub_rest_args_t *args)
{
    int                         i, q;
    size_t                      j, len;
    int64_t                     n;
    const char                 *name, *fallback;
    const ngx_webpubsub_str_t  *v;

    dst = ngx_webpubsub_cpylit(dst, "api-version=" NGX_WEBPUBSUB_API_VERSION);

    for (i = 0; op->query[i] != NGX_WEBPUBSUB_Q_END; i++) {
        q = op->query[i];
        name = ngx_webpubsub_rest_params[q].query;
        len = strlen(name);
        fallback = ngx_webpubsub_rest_params[q].fallback;

        if (args->n[q] == 0 && fallback) {
            *dst++ = '&';
            memcpy(dst, name, len);
            dst += len;
            *dst++ = '=';
            memcpy(dst, fallback, strlen(fallback));
            dst += strlen(fallback);
        }

        for (j = 0; j < args->n[q]; j++) {
            v = &args->v[q][j];

            *dst++ = '&';
            memcpy(dst, name, len);
            dst += len;
            *dst++ = '=';

            if (ngx_webpubsub_rest_numeric(q)
                && ngx_webpubsub_rest_int(v->data, v->len, 0, INT64_MAX, &n))
            {
                dst = ngx_webpubsub_rest_number(dst, n);

            } else {
                dst = ngx_webpubsub_percent(dst, v->data, v->len, 1);
            }
        }
    }

    return dst;
}


/* the JSON body of :addToGroups and :removeFromGroups, as JSON.stringify */

size_t
ngx_webpubsub_rest_body_length(const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args)
{
    size_t                      i, len;
    const ngx_webpubsub_str_t  *v;

    if (op->body != NGX_WEBPUBSUB_REST_GROUPS) {
        return 0;
    }

    len = sizeof("{\"groups\":[]}") - 1;

    /* two quotes each and a comma between two */
    for (i = 0; i < args->n[NGX_WEBPUBSUB_REST_GROUP]; i++) {
        v = &args->v[NGX_WEBPUBSUB_REST_GROUP][i];
        len += (i ? 3 : 2)
               + ngx_webpubsub_json_escape_length(v->data, v->len);
    }

    if (args->n[NGX_WEBPUBSUB_REST_FILTER]) {
        v = &args->v[NGX_WEBPUBSUB_REST_FILTER][0];
        len += sizeof(",\"filter\":\"\"") - 1
               + ngx_webpubsub_json_escape_length(v->data, v->len);
    }

    return len;
}


unsigned char *
ngx_webpubsub_rest_body(unsigned char *dst, const ngx_webpubsub_rest_op_t *op,
    const ngx_webpubsub_rest_args_t *args)
{
    size_t                      i;
    const ngx_webpubsub_str_t  *v;

    if (op->body != NGX_WEBPUBSUB_REST_GROUPS) {
        return dst;
    }

    dst = ngx_webpubsub_cpylit(dst, "{\"groups\":[");

    for (i = 0; i < args->n[NGX_WEBPUBSUB_REST_GROUP]; i++) {
        v = &args->v[NGX_WEBPUBSUB_REST_GROUP][i];

        if (i) {
            *dst++ = ',';
        }

        *dst++ = '"';
        dst = ngx_webpubsub_json_escape(dst, v->data, v->len);
        *dst++ = '"';
    }

    *dst++ = ']';

    if (args->n[NGX_WEBPUBSUB_REST_FILTER]) {
        v = &args->v[NGX_WEBPUBSUB_REST_FILTER][0];
        dst = ngx_webpubsub_cpylit(dst, ",\"filter\":\"");
        dst = ngx_webpubsub_json_escape(dst, v->data, v->len);
        *dst++ = '"';
    }

    *dst++ = '}';

    return dst;
}


/*
 * The absolute URL of a page's nextLink, which the SDK follows as it is:
 * an absolute one must be on the endpoint's origin, since every request
 * goes through the one internal location; a relative one is joined onto
 * the endpoint as core-client joins paths.  dst has room for
 * NGX_WEBPUBSUB_ENDPOINT_MAX + len bytes.
 */

const char *
ngx_webpubsub_rest_next_link(const ngx_webpubsub_endpoint_t *ep,
    const unsigned char *link, size_t len, unsigned char *dst,
    size_t *dst_len)
{
    size_t                i, origin;
    const unsigned char  *rel;

    if (len == 0 || len > NGX_WEBPUBSUB_NEXT_LINK_MAX) {
        return "has no usable length";
    }

    for (i = 0; i < len; i++) {
        if (link[i] <= 0x20 || link[i] >= 0x7f || link[i] == '#') {
            return "has a character that is not allowed in a URL";
        }
    }

    origin = ep->path_start;

    if (len > origin && link[origin] == '/'
        && ngx_webpubsub_strncaseeq(link, ep->buf, origin))
    {
        memcpy(dst, link, len);
        *dst_len = len;
        return NULL;
    }

    for (i = 0; i < len && link[i] != '/' && link[i] != '?'; i++) {
        if (link[i] == ':') {
            return "points to another origin than the endpoint";
        }
    }

    if (len >= 2 && link[0] == '/' && link[1] == '/') {
        return "points to another origin than the endpoint";
    }

    rel = (link[0] == '/') ? link + 1 : link;
    len -= rel - link;

    memcpy(dst, ep->buf, ep->len);
    memcpy(dst + ep->len, rel, len);
    *dst_len = ep->len + len;

    return NULL;
}


/*
 * application/x-www-form-urlencoded decoding of one query argument, as a
 * PHP or JavaScript server reads it: "+" is a space and %XX a byte; a
 * "%" not followed by two hex digits stays as it is.  dst may be src.
 */

size_t
ngx_webpubsub_form_decode(unsigned char *dst, const unsigned char *src,
    size_t n)
{
    int            hi, lo;
    size_t         i;
    unsigned char  *d;

    d = dst;

    for (i = 0; i < n; i++) {
        if (src[i] == '+') {
            *d++ = ' ';
            continue;
        }

        if (src[i] == '%' && i + 2 < n) {
            hi = ngx_webpubsub_hexval(src[i + 1]);
            lo = ngx_webpubsub_hexval(src[i + 2]);

            if (hi >= 0 && lo >= 0) {
                *d++ = (unsigned char) (hi << 4 | lo);
                i += 2;
                continue;
            }
        }

        *d++ = src[i];
    }

    return d - dst;
}
