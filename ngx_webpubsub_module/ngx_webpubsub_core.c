
/*
 * Copyright (C) ngx_webpubsub_module authors
 */


#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include <jansson.h>

/*
 * SHA256_Init() and friends are deprecated in OpenSSL 3.0, but EVP has no
 * way to restart a digest from a saved state without allocating a new
 * context each time (EVP_MD_CTX_copy_ex() duplicates the provider's
 * context); nginx's own OpenSSL code suppresses the warnings the same way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED  1

#include <openssl/opensslconf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
#include <openssl/core_names.h>
#include <openssl/params.h>
#elif (OPENSSL_VERSION_NUMBER < 0x10100000L)
#error "the Web PubSub module needs OpenSSL 1.1.0 or later"
#endif

/*
 * HMAC from SHA-256 states of the key's padded blocks, prepared once;
 * EVP_MAC where the low-level digest functions are compiled out (or where
 * NGX_WEBPUBSUB_HMAC_EVP asks for it, to test that path).
 */
#if (defined OPENSSL_NO_DEPRECATED_3_0 || defined NGX_WEBPUBSUB_HMAC_EVP)
#define NGX_WEBPUBSUB_PAD_STATES  0
#else
#define NGX_WEBPUBSUB_PAD_STATES  1
#endif

#include "ngx_webpubsub_core.h"


/* SHA-256's padding ends with the message's length in bits, 8 bytes */
#define NGX_WEBPUBSUB_SHA256_BITS_LEN  8


#define ngx_webpubsub_lower(c)                                              \
    (unsigned char) (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


static int ngx_webpubsub_base64url_value(unsigned char c);
static int ngx_webpubsub_strcaseeq(const unsigned char *s, size_t len,
    const char *lit);
static void ngx_webpubsub_trim(ngx_webpubsub_str_t *s);
static long ngx_webpubsub_parse_port(const unsigned char *p, size_t len);
static int ngx_webpubsub_dot_segment(const unsigned char *p, size_t len);
static int ngx_webpubsub_azure_host(const unsigned char *host, size_t len);
static int ngx_webpubsub_has_pair(const unsigned char *s, size_t len,
    const char *name);
static size_t ngx_webpubsub_int64_length(int64_t n);
static unsigned char *ngx_webpubsub_int64(unsigned char *dst, int64_t n);
static size_t ngx_webpubsub_list_next(const unsigned char **p,
    const unsigned char *end, const unsigned char **item);
static size_t ngx_webpubsub_json_array_length(const ngx_webpubsub_str_t *a,
    size_t n);
static unsigned char *ngx_webpubsub_json_array(unsigned char *dst,
    const ngx_webpubsub_str_t *a, size_t n);
static int ngx_webpubsub_token_times(ngx_webpubsub_token_t *t, int64_t iat,
    int64_t exp);
#if (NGX_WEBPUBSUB_PAD_STATES)
static int ngx_webpubsub_hmac_resume(ngx_webpubsub_hmac_t *h,
    const SHA256_CTX *from, const unsigned char *msg, size_t len,
    unsigned char *mac);
static size_t ngx_webpubsub_sha256_pad(unsigned char *block, size_t last,
    uint64_t bits);
static void ngx_webpubsub_put_digest(unsigned char *p, const SHA256_CTX *ctx);
#endif


/* base64url of {"alg":"HS256","typ":"JWT"}, the header every SDK sends */
static const char  ngx_webpubsub_jwt_header[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#define NGX_WEBPUBSUB_JWT_HEADER_LEN  (sizeof(ngx_webpubsub_jwt_header) - 1)
#define NGX_WEBPUBSUB_JWT_SIG_LEN     43

/* the longest decimal int64, its sign included */
#define NGX_WEBPUBSUB_INT64_LEN       20

/* "sha256=" and the MAC in hex: one item of ce-signature */
#define NGX_WEBPUBSUB_SIGNATURE_LEN                                          \
    (sizeof("sha256=") - 1 + 2 * NGX_WEBPUBSUB_SHA256_LEN)

/* what separates the items of ce-signature and WebHook-Request-Origin */
#define ngx_webpubsub_list_sep(c)  ((c) == ',' || (c) == ' ' || (c) == '\t')

/* the longest "iat,"exp":exp" */
#define NGX_WEBPUBSUB_TIMES_LEN                                              \
    (2 * NGX_WEBPUBSUB_INT64_LEN + sizeof(",\"exp\":") - 1)


/*
 * Secrets on the stack of a request's path wiped: zeroes the compiler
 * must write, as the pointer escapes into the barrier.  OPENSSL_cleanse()
 * does the same in a call into libcrypto, which a webhook would pay for
 * on every check; it stays where no such barrier can be written.
 */

void
ngx_webpubsub_wipe(void *p, size_t n)
{
    memset(p, 0, n);
#if (defined __GNUC__ || defined __clang__)
    __asm__ __volatile__ ("" : : "r" (p) : "memory");
#else
    OPENSSL_cleanse(p, n);
#endif
}


static int
ngx_webpubsub_strcaseeq(const unsigned char *s, size_t len, const char *lit)
{
    size_t  i;

    if (strlen(lit) != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (ngx_webpubsub_lower(s[i]) != (unsigned char) lit[i]) {
            return 0;
        }
    }

    return 1;
}


int
ngx_webpubsub_strncaseeq(const unsigned char *a, const unsigned char *b,
    size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (ngx_webpubsub_lower(a[i]) != ngx_webpubsub_lower(b[i])) {
            return 0;
        }
    }

    return 1;
}


static void
ngx_webpubsub_trim(ngx_webpubsub_str_t *s)
{
    while (s->len && (s->data[0] == ' ' || s->data[0] == '\t')) {
        s->data++;
        s->len--;
    }

    while (s->len
           && (s->data[s->len - 1] == ' ' || s->data[s->len - 1] == '\t'))
    {
        s->len--;
    }
}


static long
ngx_webpubsub_parse_port(const unsigned char *p, size_t len)
{
    long    port;
    size_t  i;

    /* leading zeros are no digits: a URL parser reads "065535" as 65535 */
    while (len > 1 && p[0] == '0') {
        p++;
        len--;
    }

    if (len == 0 || len > 5) {
        return -1;
    }

    port = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        port = port * 10 + (p[i] - '0');
    }

    if (port < 1 || port > 65535) {
        return -1;
    }

    return port;
}


/* ".", "..", or the same with dots written "%2e", as URL parsers see them */

static int
ngx_webpubsub_dot_segment(const unsigned char *p, size_t len)
{
    size_t  i, dots;

    dots = 0;

    for (i = 0; i < len; /* void */) {
        if (p[i] == '.') {
            i++;

        } else if (i + 3 <= len && p[i] == '%' && p[i + 1] == '2'
                   && (p[i + 2] == 'e' || p[i + 2] == 'E'))
        {
            i += 3;

        } else {
            return 0;
        }

        dots++;
    }

    return dots == 1 || dots == 2;
}


const char *
ngx_webpubsub_parse_connection_string(const unsigned char *s, size_t len,
    ngx_webpubsub_conn_str_t *cs)
{
    const unsigned char  *p, *end, *semi, *eq;
    ngx_webpubsub_str_t   key, value, *slot;
    const char           *dup;

    memset(cs, 0, sizeof(ngx_webpubsub_conn_str_t));

    if (len > NGX_WEBPUBSUB_ENDPOINT_MAX + NGX_WEBPUBSUB_KEY_MAX + 256) {
        return "is too long";
    }

    p = s;
    end = s + len;

    while (p < end) {
        semi = memchr(p, ';', end - p);
        if (semi == NULL) {
            semi = end;
        }

        /* values may contain "=" (base64 keys end in it): split at the first */
        eq = memchr(p, '=', semi - p);

        if (eq == NULL) {
            /* the SDKs ignore segments without "=", and so do we */
            p = semi;
            goto next;
        }

        key.data = p;
        key.len = eq - p;
        value.data = eq + 1;
        value.len = semi - eq - 1;

        ngx_webpubsub_trim(&key);
        ngx_webpubsub_trim(&value);

        if (ngx_webpubsub_strcaseeq(key.data, key.len, "endpoint")) {
            slot = &cs->endpoint;
            dup = "has more than one Endpoint";

        } else if (ngx_webpubsub_strcaseeq(key.data, key.len, "accesskey")) {
            slot = &cs->access_key;
            dup = "has more than one AccessKey";

        } else if (ngx_webpubsub_strcaseeq(key.data, key.len, "port")) {
            slot = &cs->port;
            dup = "has more than one Port";

        } else {
            /* Version and anything else: no SDK acts on them */
            p = semi;
            goto next;
        }

        /* the SDKs disagree on which duplicate wins, so refuse them */
        if (slot->data != NULL) {
            return dup;
        }

        *slot = value;

        p = semi;

    next:

        if (p < end) {
            p++;
        }
    }

    if (cs->endpoint.data == NULL || cs->endpoint.len == 0) {
        return "has no Endpoint";
    }

    if (cs->access_key.data == NULL || cs->access_key.len == 0) {
        return "has no AccessKey";
    }

    if (cs->access_key.len > NGX_WEBPUBSUB_KEY_MAX) {
        return "has an AccessKey that is too long";
    }

    if (cs->port.data != NULL
        && ngx_webpubsub_parse_port(cs->port.data, cs->port.len) < 0)
    {
        return "has a Port that is not a number from 1 to 65535";
    }

    return NULL;
}


/* a "name=" pair, as a connection string has them, anywhere in s */

static int
ngx_webpubsub_has_pair(const unsigned char *s, size_t len, const char *name)
{
    size_t  i, j, n;

    n = strlen(name);

    for (i = 0; i + n < len; i++) {
        if (!ngx_webpubsub_strncaseeq(s + i, (const unsigned char *) name, n))
        {
            continue;
        }

        /* the parser allows white space before "=" */
        for (j = i + n; j < len && (s[j] == ' ' || s[j] == '\t'); j++) {
            /* void */
        }

        if (j < len && s[j] == '=') {
            return 1;
        }
    }

    return 0;
}


const char *
ngx_webpubsub_key_file(const unsigned char *data, size_t len,
    ngx_webpubsub_str_t *key)
{
    size_t          i, eol;
    unsigned char   c;

    key->data = data;
    key->len = 0;

    /* Windows editors add one; the key would silently begin with it */
    if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
        return "starts with a UTF-8 byte order mark, save it without one";
    }

    if (ngx_webpubsub_has_pair(data, len, "accesskey")
        || ngx_webpubsub_has_pair(data, len, "endpoint"))
    {
        return "holds a connection string, not a key: put only the "
               "AccessKey value in it, or give the whole string to "
               "webpubsub_connection_string";
    }

    for (eol = 0; eol < len && data[eol] != '\n'; eol++) {
        /* void */
    }

    key->len = eol;

    while (key->len
           && (data[key->len - 1] == '\r' || data[key->len - 1] == ' '
               || data[key->len - 1] == '\t'))
    {
        key->len--;
    }

    /* the rest may be line ends and white space, as editors leave them */

    for (i = eol; i < len; i++) {
        c = data[i];

        if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            continue;
        }

        if (key->len == 0) {
            return "starts with an empty line, put the key on the first "
                   "line";
        }

        return "has a second line of text, but a key file holds one key: "
               "give each key a file of its own";
    }

    if (key->len == 0) {
        return "is empty";
    }

    return NULL;
}


const char *
ngx_webpubsub_parse_endpoint(const unsigned char *url, size_t len,
    const ngx_webpubsub_str_t *port, ngx_webpubsub_endpoint_t *ep)
{
    long                  portn;
    size_t                i, need, scheme_len;
    unsigned char        *d, c;
    const unsigned char  *p, *end, *sep, *auth, *auth_end, *host, *host_end;

    memset(ep, 0, sizeof(ngx_webpubsub_endpoint_t));

    p = url;
    end = url + len;

    for (i = 0; i < len; i++) {
        if (url[i] == '?' || url[i] == '#') {
            return "has an endpoint with a query or fragment";
        }
    }

    sep = NULL;

    for (i = 0; i + 3 <= len; i++) {
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            sep = url + i;
            break;
        }

        if (url[i] == '/') {
            break;
        }
    }

    if (sep == NULL) {
        /* as the JS SDK does: a bare host name means https */
        ep->secure = 1;
        auth = p;

    } else if (ngx_webpubsub_strcaseeq(p, sep - p, "https")) {
        ep->secure = 1;
        auth = sep + 3;

    } else if (ngx_webpubsub_strcaseeq(p, sep - p, "http")) {
        auth = sep + 3;

    } else {
        return "has an endpoint that is not http or https";
    }

    auth_end = auth;

    while (auth_end < end && *auth_end != '/') {
        if (*auth_end == '@') {
            return "has an endpoint with user info";
        }

        auth_end++;
    }

    host = auth;

    if (host < auth_end && *host == '[') {
        host_end = memchr(host, ']', auth_end - host);
        if (host_end == NULL) {
            return "has an endpoint with an invalid host";
        }

        for (p = host + 1; p < host_end; p++) {
            c = *p;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                  || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
            {
                return "has an endpoint with an invalid host";
            }
        }

        host_end++;

    } else {
        for (host_end = host;
             host_end < auth_end && *host_end != ':';
             host_end++)
        {
            c = *host_end;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                  || (c >= 'A' && c <= 'Z') || c == '-' || c == '.'
                  || c == '_' || c == '~'))
            {
                return "has an endpoint with an invalid host";
            }
        }
    }

    if (host_end == host || (host_end - host == 2 && *host == '[')) {
        return "has an endpoint without a host";
    }

    portn = 0;

    if (host_end < auth_end) {
        if (*host_end != ':') {
            return "has an endpoint with an invalid host";
        }

        portn = ngx_webpubsub_parse_port(host_end + 1,
                                         auth_end - host_end - 1);
        if (portn < 0) {
            return "has an endpoint with a port that is not 1 to 65535";
        }
    }

    if (port != NULL && port->data != NULL) {
        portn = ngx_webpubsub_parse_port(port->data, port->len);
        if (portn < 0) {
            return "has a Port that is not a number from 1 to 65535";
        }
    }

    if ((ep->secure && portn == 443) || (!ep->secure && portn == 80)) {
        portn = 0;
    }

    for (p = auth_end; p < end; p++) {
        c = *p;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>'
            || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|'
            || c == '}')
        {
            return "has an endpoint with an invalid path";
        }
    }

    /*
     * The JS SDK's URL parser resolves "." and ".." segments; rather than
     * resolve them too, refuse them, so the audience can never differ.
     */

    for (p = auth_end; p < end; p = sep) {
        p++;
        sep = memchr(p, '/', end - p);
        if (sep == NULL) {
            sep = end;
        }

        if (ngx_webpubsub_dot_segment(p, sep - p)) {
            return "has an endpoint with a \".\" or \"..\" path segment";
        }
    }

    scheme_len = ep->secure ? sizeof("https://") - 1 : sizeof("http://") - 1;

    /*
     * What will be written, exactly, so that a normalised endpoint always
     * parses again: scheme, host, ":port", path, and a final "/".
     */

    need = scheme_len + (host_end - host) + (end - auth_end);

    if (portn) {
        need += 1 + (portn >= 10000 ? 5 : portn >= 1000 ? 4
                     : portn >= 100 ? 3 : portn >= 10 ? 2 : 1);
    }

    if (end == auth_end || end[-1] != '/') {
        need++;
    }

    if (need > NGX_WEBPUBSUB_ENDPOINT_MAX) {
        return "has an endpoint that is too long";
    }

    d = ep->buf;
    memcpy(d, ep->secure ? "https://" : "http://", scheme_len);
    d += scheme_len;

    ep->host_start = d - ep->buf;
    ep->host_len = host_end - host;

    for (p = host; p < host_end; p++) {
        *d++ = ngx_webpubsub_lower(*p);
    }

    if (portn) {
        d += sprintf((char *) d, ":%ld", portn);
    }

    ep->path_start = d - ep->buf;

    memcpy(d, auth_end, end - auth_end);
    d += end - auth_end;

    if (d == ep->buf + ep->path_start || d[-1] != '/') {
        *d++ = '/';
    }

    ep->len = d - ep->buf;

    return NULL;
}


/*
 * The host names of Azure Web PubSub resources, which answer https only:
 * <name>.webpubsub.azure.com, and <name>.webpubsub.azure.cn in Azure
 * China.  Other clouds' names are left out rather than guessed.
 */

static int
ngx_webpubsub_azure_host(const unsigned char *host, size_t len)
{
    size_t       i, n;
    const char  *suffix;

    static const char  *suffixes[] = {
        ".webpubsub.azure.com",
        ".webpubsub.azure.cn"
    };

    /* "x.webpubsub.azure.com." is the same host, written absolute */
    if (len && host[len - 1] == '.') {
        len--;
    }

    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        suffix = suffixes[i];
        n = strlen(suffix);

        if (len > n
            && ngx_webpubsub_strncaseeq(host + len - n,
                                        (const unsigned char *) suffix, n))
        {
            return 1;
        }
    }

    return 0;
}


const char *
ngx_webpubsub_endpoint_mistake(const unsigned char *url, size_t len,
    const ngx_webpubsub_str_t *port, unsigned char *fix, size_t *fix_len)
{
    size_t                     i, n, cut;
    unsigned                   ws, azure, secure;
    const char                *mistake, *client;
    unsigned char             *d, tmp[NGX_WEBPUBSUB_ENDPOINT_MAX];
    ngx_webpubsub_endpoint_t   ep;

    /*
     * The service's client paths (ngx_webpubsub_client_path()), as far as
     * no proxy in front of the service would use them as a prefix of its
     * own: "client/" alone might be one, "client/hubs/" is the service's.
     */
    static const char  *clients[] = {
        "client/hubs/",
        "clients/mqtt/",
        "clients/socketio/"
    };

    *fix_len = 0;

    /* a client URL comes with ?access_token=...: what precedes it counts */

    for (i = 0; i < len; i++) {
        if (url[i] == '?' || url[i] == '#') {
            len = i;
            break;
        }
    }

    /* the client's schemes, read as the http and https they stand for */

    ws = (len > 5
          && ngx_webpubsub_strncaseeq(url, (const unsigned char *) "ws://", 5))
         || (len > 6
             && ngx_webpubsub_strncaseeq(url,
                                         (const unsigned char *) "wss://", 6));

    if (ws) {
        if (len + 2 > sizeof(tmp)) {
            return NULL;
        }

        /* "ws://h" becomes "http://h", and "wss://h" "https://h" */
        memcpy(tmp, "http", 4);
        memcpy(tmp + 4, url + 2, len - 2);
        url = tmp;
        len += 2;
    }

    if (ngx_webpubsub_parse_endpoint(url, len, port, &ep) != NULL) {
        return NULL;
    }

    mistake = NULL;

    /* a path that holds a client path is the client URL, or part of it */

    for (i = 0;
         mistake == NULL && i < sizeof(clients) / sizeof(clients[0]);
         i++)
    {
        client = clients[i];
        n = strlen(client);

        for (cut = ep.path_start; cut + 1 + n <= ep.len; cut++) {
            if (ep.buf[cut] == '/'
                && ngx_webpubsub_strncaseeq(ep.buf + cut + 1,
                                            (const unsigned char *) client,
                                            n))
            {
                mistake = "has a client URL as endpoint, not the "
                          "resource's origin";
                cut++;
                break;
            }
        }
    }

    if (mistake == NULL) {
        cut = ep.len;
    }

    azure = ngx_webpubsub_azure_host(ep.buf + ep.host_start, ep.host_len);

    if (mistake == NULL && azure && !ep.secure) {
        mistake = ws ? "has a ws endpoint, but Azure Web PubSub needs https"
                     : "has an http endpoint, but Azure Web PubSub needs "
                       "https";
    }

    if (mistake == NULL && ws) {
        mistake = "has an endpoint that is not http or https";
    }

    if (mistake == NULL) {
        return NULL;
    }

    /* what to give instead: scheme, host, port, the path before "/client" */

    secure = ep.secure || azure;

    d = fix;
    memcpy(d, secure ? "https://" : "http://", secure ? 8 : 7);
    d += secure ? 8 : 7;

    n = cut - ep.host_start;

    /* without the final "/", as the portal shows an endpoint */
    if (ep.buf[cut - 1] == '/') {
        n--;
    }

    memcpy(d, ep.buf + ep.host_start, n);
    *fix_len = d + n - fix;

    return mistake;
}


const char *
ngx_webpubsub_check_hub(const unsigned char *hub, size_t len)
{
    size_t         i;
    unsigned char  c;

    /* the service's rule: ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$ */

    if (len == 0) {
        return "is empty";
    }

    if (len > NGX_WEBPUBSUB_HUB_MAX) {
        return "is longer than 128 characters";
    }

    c = hub[0];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        return "does not start with a letter";
    }

    for (i = 1; i < len; i++) {
        c = hub[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '`' || c == ','
              || c == '.' || c == '[' || c == ']'))
        {
            return "has a character other than letters, digits and _`,.[]";
        }
    }

    return NULL;
}


const char *
ngx_webpubsub_client_path(unsigned protocol)
{
    switch (protocol) {

    case NGX_WEBPUBSUB_PROTOCOL_MQTT:
        return "clients/mqtt/hubs/";

    case NGX_WEBPUBSUB_PROTOCOL_SOCKETIO:
        return "clients/socketio/hubs/";

    default:
        return "client/hubs/";
    }
}


size_t
ngx_webpubsub_client_base_url(const ngx_webpubsub_endpoint_t *ep,
    unsigned char *dst)
{
    size_t  skip;

    /* clients connect over WebSocket: http becomes ws, https wss */

    if (ep->secure) {
        memcpy(dst, "wss", 3);
        skip = 5;

    } else {
        memcpy(dst, "ws", 2);
        skip = 4;
    }

    memcpy(dst + skip - 2, ep->buf + skip, ep->len - skip);

    return ep->len - 2;
}


size_t
ngx_webpubsub_base64url_length(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}


size_t
ngx_webpubsub_base64url_encode(unsigned char *dst, const unsigned char *src,
    size_t n)
{
    uint32_t             v;
    unsigned char       *d;
    static const char    alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "abcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_";

    d = dst;

    /*
     * Three bytes at a time into a local (stores through d could alias
     * src and make the compiler read each byte again).  The alphabet
     * is a cache line or two: a table of character pairs (8 KB) halves
     * the lookups, but where a request's other work has pushed it out
     * of the cache, as a REST call's network traffic does, its misses
     * cost more than the lookups it saves.
     */

    while (n >= 3) {
        v = (uint32_t) src[0] << 16 | (uint32_t) src[1] << 8 | src[2];

        d[0] = alphabet[v >> 18];
        d[1] = alphabet[(v >> 12) & 0x3f];
        d[2] = alphabet[(v >> 6) & 0x3f];
        d[3] = alphabet[v & 0x3f];

        d += 4;
        src += 3;
        n -= 3;
    }

    if (n) {
        *d++ = alphabet[src[0] >> 2];

        if (n == 1) {
            *d++ = alphabet[(src[0] & 0x03) << 4];

        } else {
            *d++ = alphabet[((src[0] & 0x03) << 4) | (src[1] >> 4)];
            *d++ = alphabet[(src[1] & 0x0f) << 2];
        }
    }

    return d - dst;
}


/*
 * Strict: no padding, no white space, and the bits a last character
 * carries beyond the data must be zero, so that one value has one
 * encoding (a signature or key cannot be varied unseen).
 */

int
ngx_webpubsub_base64url_decode(unsigned char *dst, size_t *dst_len,
    const unsigned char *src, size_t n)
{
    int            c;
    size_t         i, len;
    uint32_t       acc;
    unsigned int   bits;

    if (n % 4 == 1) {
        return -1;
    }

    len = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < n; i++) {
        c = ngx_webpubsub_base64url_value(src[i]);
        if (c < 0) {
            return -1;
        }

        acc = (acc << 6) | (uint32_t) c;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[len++] = (unsigned char) (acc >> bits);
        }
    }

    if (acc & ((1u << bits) - 1)) {
        return -1;
    }

    *dst_len = len;

    return 0;
}


/*
 * The length of the UTF-8 sequence at p, with *valid set to 0 where it is
 * ill-formed (overlong, surrogate, past U+10FFFF, cut short): then the
 * length is that of its maximal subpart, the unit a WHATWG decoder turns
 * into one U+FFFD.
 */

size_t
ngx_webpubsub_utf8_next(const unsigned char *p, const unsigned char *end,
    int *valid)
{
    size_t         n, i;
    unsigned char  c, lo, hi;

    c = p[0];
    *valid = 1;

    if (c < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;

        if (c == 0xe0) {
            lo = 0xa0;

        } else if (c == 0xed) {
            hi = 0x9f;
        }

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;

        if (c == 0xf0) {
            lo = 0x90;

        } else if (c == 0xf4) {
            hi = 0x8f;
        }

    } else {
        *valid = 0;
        return 1;
    }

    for (i = 1; i < n; i++) {
        if (p + i >= end || p[i] < lo || p[i] > hi) {
            *valid = 0;
            return i;
        }

        lo = 0x80;
        hi = 0xbf;
    }

    return n;
}


/* the code point of a well-formed sequence of n bytes */

uint32_t
ngx_webpubsub_utf8_value(const unsigned char *p, size_t n)
{
    size_t    i;
    uint32_t  cp;

    if (n == 1) {
        return p[0];
    }

    cp = p[0] & (0x7f >> n);

    for (i = 1; i < n; i++) {
        cp = (cp << 6) | (p[i] & 0x3f);
    }

    return cp;
}


int
ngx_webpubsub_utf8_valid(const unsigned char *s, size_t n)
{
    int                   valid;
    const unsigned char  *end;

    end = s + n;

    while (s < end) {
        s += ngx_webpubsub_utf8_next(s, end, &valid);

        if (!valid) {
            return 0;
        }
    }

    return 1;
}


/* what JavaScript's \s matches: WhiteSpace and LineTerminator */

int
ngx_webpubsub_js_space(uint32_t cp)
{
    switch (cp) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f:
    case 0x205f: case 0x3000: case 0xfeff:
        return 1;
    }

    return cp >= 0x2000 && cp <= 0x200a;
}


/* printable ASCII that JSON.stringify() leaves as it is: not " or \ */

static const unsigned char  ngx_webpubsub_json_plain[256] = {
    /* 0x00 - 0x1f: control characters */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 - 0x3f: '"' is 0x22 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 - 0x5f: '\\' is 0x5c */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 - 0x7f: DEL is left as JSON.stringify leaves it */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80 - 0xff: UTF-8, checked one sequence at a time */
};


/*
 * JSON string contents escaped as JavaScript's JSON.stringify() escapes
 * them, so that payloads match the SDKs byte for byte.  Bytes that are
 * not UTF-8 cannot come from a JavaScript string; they become U+FFFD as
 * a WHATWG UTF-8 decoder makes them, so the output is always valid JSON.
 */

size_t
ngx_webpubsub_json_escape_length(const unsigned char *s, size_t n)
{
    int                   valid;
    size_t                len, u;
    const unsigned char  *end;

    len = 0;
    end = s + n;

    while (s < end) {
        if (ngx_webpubsub_json_plain[*s]) {
            /* the common case, URLs and tokens: a run of plain ASCII */
            len++;
            s++;
            continue;
        }

        if (*s < 0x80) {
            if (*s == '"' || *s == '\\' || *s == '\b' || *s == '\f'
                || *s == '\n' || *s == '\r' || *s == '\t')
            {
                len += 2;

            } else if (*s < 0x20) {
                len += 6;

            } else {
                len++;
            }

            s++;
            continue;
        }

        u = ngx_webpubsub_utf8_next(s, end, &valid);

        len += valid ? u : 3;
        s += u;
    }

    return len;
}


unsigned char *
ngx_webpubsub_json_escape(unsigned char *dst, const unsigned char *s,
    size_t n)
{
    int                   valid;
    size_t                u;
    unsigned char         c;
    const unsigned char  *end, *run;
    static const char     hex[] = "0123456789abcdef";

    end = s + n;

    while (s < end) {
        c = *s;

        if (ngx_webpubsub_json_plain[c]) {
            run = s + 1;

            while (run < end && ngx_webpubsub_json_plain[*run]) {
                run++;
            }

            memcpy(dst, s, run - s);
            dst += run - s;
            s = run;
            continue;
        }

        if (c >= 0x80) {
            u = ngx_webpubsub_utf8_next(s, end, &valid);

            if (valid) {
                memcpy(dst, s, u);
                dst += u;

            } else {
                *dst++ = 0xef;
                *dst++ = 0xbf;
                *dst++ = 0xbd;
            }

            s += u;

            continue;
        }

        s++;

        switch (c) {

        case '"':
        case '\\':
            *dst++ = '\\';
            *dst++ = c;
            break;

        case '\b':
            *dst++ = '\\';
            *dst++ = 'b';
            break;

        case '\f':
            *dst++ = '\\';
            *dst++ = 'f';
            break;

        case '\n':
            *dst++ = '\\';
            *dst++ = 'n';
            break;

        case '\r':
            *dst++ = '\\';
            *dst++ = 'r';
            break;

        case '\t':
            *dst++ = '\\';
            *dst++ = 't';
            break;

        default:
            if (c < 0x20) {
                *dst++ = '\\';
                *dst++ = 'u';
                *dst++ = '0';
                *dst++ = '0';
                *dst++ = hex[c >> 4];
                *dst++ = hex[c & 0xf];

            } else {
                *dst++ = c;
            }
        }
    }

    return dst;
}


static size_t
ngx_webpubsub_int64_length(int64_t n)
{
    size_t    len;
    uint64_t  u;

    len = 1;

    if (n < 0) {
        len++;
        u = (uint64_t) 0 - (uint64_t) n;

    } else {
        u = (uint64_t) n;
    }

    while (u >= 10) {
        u /= 10;
        len++;
    }

    return len;
}


/* one pass, backwards into a buffer: a token writes two of these */

static unsigned char *
ngx_webpubsub_int64(unsigned char *dst, int64_t n)
{
    size_t         len;
    uint64_t       u;
    unsigned char  buf[NGX_WEBPUBSUB_INT64_LEN], *p;

    u = (n < 0) ? (uint64_t) 0 - (uint64_t) n : (uint64_t) n;
    p = buf + sizeof(buf);

    do {
        *--p = (unsigned char) ('0' + u % 10);
        u /= 10;
    } while (u);

    if (n < 0) {
        *--p = '-';
    }

    len = buf + sizeof(buf) - p;
    memcpy(dst, p, len);

    return dst + len;
}


static size_t
ngx_webpubsub_json_array_length(const ngx_webpubsub_str_t *a, size_t n)
{
    size_t  i, len;

    /* "[" "]" and a "," between elements, two quotes each */
    len = 2 + (n ? n - 1 : 0);

    for (i = 0; i < n; i++) {
        len += 2 + ngx_webpubsub_json_escape_length(a[i].data, a[i].len);
    }

    return len;
}


static unsigned char *
ngx_webpubsub_json_array(unsigned char *dst, const ngx_webpubsub_str_t *a,
    size_t n)
{
    size_t  i;

    *dst++ = '[';

    for (i = 0; i < n; i++) {
        if (i) {
            *dst++ = ',';
        }

        *dst++ = '"';
        dst = ngx_webpubsub_json_escape(dst, a[i].data, a[i].len);
        *dst++ = '"';
    }

    *dst++ = ']';

    return dst;
}


/*
 * The claims in the order jsonwebtoken writes them for the JS SDK's
 * getClientAccessToken(): role, webpubsub.group, iat, exp, aud, sub.
 */

size_t
ngx_webpubsub_client_claims_length(const ngx_webpubsub_claims_t *c)
{
    size_t  len;

    len = sizeof("{\"iat\":,\"exp\":,\"aud\":\"\"}") - 1
          + ngx_webpubsub_int64_length(c->iat)
          + ngx_webpubsub_int64_length(c->exp)
          + ngx_webpubsub_json_escape_length(c->aud.data, c->aud.len);

    if (c->nroles) {
        len += sizeof("\"role\":,") - 1
               + ngx_webpubsub_json_array_length(c->roles, c->nroles);
    }

    if (c->ngroups) {
        len += sizeof("\"webpubsub.group\":,") - 1
               + ngx_webpubsub_json_array_length(c->groups, c->ngroups);
    }

    if (c->sub.len) {
        len += sizeof(",\"sub\":\"\"") - 1
               + ngx_webpubsub_json_escape_length(c->sub.data, c->sub.len);
    }

    return len;
}


unsigned char *
ngx_webpubsub_client_claims(unsigned char *dst,
    const ngx_webpubsub_claims_t *c)
{
    *dst++ = '{';

    if (c->nroles) {
        dst = ngx_webpubsub_cpylit(dst, "\"role\":");
        dst = ngx_webpubsub_json_array(dst, c->roles, c->nroles);
        *dst++ = ',';
    }

    if (c->ngroups) {
        dst = ngx_webpubsub_cpylit(dst, "\"webpubsub.group\":");
        dst = ngx_webpubsub_json_array(dst, c->groups, c->ngroups);
        *dst++ = ',';
    }

    dst = ngx_webpubsub_cpylit(dst, "\"iat\":");
    dst = ngx_webpubsub_int64(dst, c->iat);
    dst = ngx_webpubsub_cpylit(dst, ",\"exp\":");
    dst = ngx_webpubsub_int64(dst, c->exp);
    dst = ngx_webpubsub_cpylit(dst, ",\"aud\":\"");
    dst = ngx_webpubsub_json_escape(dst, c->aud.data, c->aud.len);
    *dst++ = '"';

    if (c->sub.len) {
        dst = ngx_webpubsub_cpylit(dst, ",\"sub\":\"");
        dst = ngx_webpubsub_json_escape(dst, c->sub.data, c->sub.len);
        *dst++ = '"';
    }

    *dst++ = '}';

    return dst;
}


size_t
ngx_webpubsub_jwt_length(size_t payload_len)
{
    return NGX_WEBPUBSUB_JWT_HEADER_LEN + 1
           + ngx_webpubsub_base64url_length(payload_len) + 1
           + NGX_WEBPUBSUB_JWT_SIG_LEN;
}


int
ngx_webpubsub_hmac_sha256(const ngx_webpubsub_str_t *key,
    const unsigned char *msg, size_t len, unsigned char *mac)
{
    unsigned int  mac_len;

    if (key->len > NGX_WEBPUBSUB_KEY_MAX) {
        return -1;
    }

    /* the AccessKey is used as a string, never base64-decoded */

    if (HMAC(EVP_sha256(), key->data, (int) key->len, msg, len, mac, &mac_len)
        == NULL
        || mac_len != NGX_WEBPUBSUB_SHA256_LEN)
    {
        ERR_clear_error();
        return -1;
    }

    return 0;
}


struct ngx_webpubsub_hmac_s {
#if (NGX_WEBPUBSUB_PAD_STATES)
    SHA256_CTX    inner;    /* after the block of the key ^ ipad */
    SHA256_CTX    outer;    /* after the block of the key ^ opad */
#elif (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    EVP_MAC_CTX  *ctx;
    int           reinit;
#else
    HMAC_CTX     *ctx;
#endif
};


#if (NGX_WEBPUBSUB_PAD_STATES)

/* RFC 2104: a key longer than a block is hashed, then padded with zeros */

ngx_webpubsub_hmac_t *
ngx_webpubsub_hmac_new(const ngx_webpubsub_str_t *key)
{
    int                    ok;
    size_t                 i;
    unsigned char          k[SHA256_CBLOCK], pad[SHA256_CBLOCK];
    ngx_webpubsub_hmac_t  *h;

    if (key->len > NGX_WEBPUBSUB_KEY_MAX) {
        return NULL;
    }

    h = calloc(1, sizeof(ngx_webpubsub_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    memset(k, 0, sizeof(k));

    if (key->len > SHA256_CBLOCK) {
        ok = (SHA256(key->data, key->len, k) != NULL);

    } else {
        memcpy(k, key->data, key->len);
        ok = 1;
    }

    for (i = 0; i < SHA256_CBLOCK; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    ok = ok
         && SHA256_Init(&h->inner)
         && SHA256_Update(&h->inner, pad, SHA256_CBLOCK);

    for (i = 0; i < SHA256_CBLOCK; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    ok = ok
         && SHA256_Init(&h->outer)
         && SHA256_Update(&h->outer, pad, SHA256_CBLOCK);

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));

    if (!ok) {
        ERR_clear_error();
        ngx_webpubsub_hmac_free(h);
        return NULL;
    }

    return h;
}


void
ngx_webpubsub_hmac_free(ngx_webpubsub_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

    /* either state signs as well as the key does */
    OPENSSL_cleanse(h, sizeof(ngx_webpubsub_hmac_t));
    free(h);
}


/*
 * The MAC of a message whose first bytes are already in "from", a copy
 * of the inner state (the key's, or one with a constant prefix after it).
 * Every such state ends on a block boundary, so the padding (0x80, zeros,
 * the length in bits in its last 8 bytes) is written here and the last
 * blocks go to the block function directly, without what SHA256_Final()
 * adds: buffering, and wiping a block of public bytes, twice per MAC.
 * The outer hash is always one block, the inner digest and its padding;
 * SHA256_Transform() reads only the state's h.
 */

static int
ngx_webpubsub_hmac_resume(ngx_webpubsub_hmac_t *h, const SHA256_CTX *from,
    const unsigned char *msg, size_t len, unsigned char *mac)
{
    size_t         whole, last, end;
    uint64_t       bits;
    SHA256_CTX     ctx;
    unsigned char  block[2 * SHA256_CBLOCK];

    if (from->num != 0) {
        /* not a state of this file's making: unreachable */
        return -1;
    }

    bits = (((uint64_t) from->Nh << 32) | from->Nl) + (uint64_t) len * 8;

    ctx = *from;

    whole = len / SHA256_CBLOCK * SHA256_CBLOCK;

    if (whole && !SHA256_Update(&ctx, msg, whole)) {
        return -1;
    }

    last = len - whole;

    memcpy(block, msg + whole, last);
    end = ngx_webpubsub_sha256_pad(block, last, bits);

    SHA256_Transform(&ctx, block);

    if (end > SHA256_CBLOCK) {
        SHA256_Transform(&ctx, block + SHA256_CBLOCK);
    }

    /*
     * The inner hash is not wiped: without the outer state it signs
     * nothing, and the MAC made from it is published.
     */

    ngx_webpubsub_put_digest(block, &ctx);
    (void) ngx_webpubsub_sha256_pad(block, NGX_WEBPUBSUB_SHA256_LEN,
                                    (SHA256_CBLOCK + NGX_WEBPUBSUB_SHA256_LEN)
                                    * 8);

    memcpy(ctx.h, h->outer.h, sizeof(ctx.h));
    SHA256_Transform(&ctx, block);

    ngx_webpubsub_put_digest(mac, &ctx);

    return 0;
}


/*
 * SHA-256's padding after the last bytes of a message, the first "last"
 * of block: 0x80, zeros, and the message's length in bits, big-endian, in
 * the last 8 bytes of one block or, where it does not fit, of two.  The
 * padded length.
 */

static size_t
ngx_webpubsub_sha256_pad(unsigned char *block, size_t last, uint64_t bits)
{
    size_t  i, end;

    end = (last + 1 + NGX_WEBPUBSUB_SHA256_BITS_LEN <= SHA256_CBLOCK)
          ? SHA256_CBLOCK : 2 * SHA256_CBLOCK;

    block[last] = 0x80;
    memset(block + last + 1, 0,
           end - NGX_WEBPUBSUB_SHA256_BITS_LEN - last - 1);

    for (i = 1; i <= NGX_WEBPUBSUB_SHA256_BITS_LEN; i++) {
        block[end - i] = (unsigned char) bits;
        bits >>= 8;
    }

    return end;
}


static void
ngx_webpubsub_put_digest(unsigned char *p, const SHA256_CTX *ctx)
{
    size_t  i;

    for (i = 0; i < 8; i++) {
        p[4 * i] = (unsigned char) (ctx->h[i] >> 24);
        p[4 * i + 1] = (unsigned char) (ctx->h[i] >> 16);
        p[4 * i + 2] = (unsigned char) (ctx->h[i] >> 8);
        p[4 * i + 3] = (unsigned char) ctx->h[i];
    }
}


int
ngx_webpubsub_hmac(ngx_webpubsub_hmac_t *h, const unsigned char *msg,
    size_t len, unsigned char *mac)
{
    return ngx_webpubsub_hmac_resume(h, &h->inner, msg, len, mac);
}

#else /* !NGX_WEBPUBSUB_PAD_STATES */

ngx_webpubsub_hmac_t *
ngx_webpubsub_hmac_new(const ngx_webpubsub_str_t *key)
{
    ngx_webpubsub_hmac_t  *h;
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    EVP_MAC               *mac;
    OSSL_PARAM             params[2];
#endif

    if (key->len > NGX_WEBPUBSUB_KEY_MAX) {
        return NULL;
    }

    h = calloc(1, sizeof(ngx_webpubsub_hmac_t));
    if (h == NULL) {
        return NULL;
    }

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        goto failed;
    }

    h->ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (h->ctx == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (!EVP_MAC_init(h->ctx, key->data, key->len, params)) {
        goto failed;
    }

    /*
     * Before 3.0.3 a NULL key did not restart the MAC (OpenSSL issue
     * 17811): there each MAC works on a copy of the keyed context instead.
     */
    h->reinit = OpenSSL_version_num() >= 0x30000030L;

#else

    h->ctx = HMAC_CTX_new();
    if (h->ctx == NULL) {
        goto failed;
    }

    if (!HMAC_Init_ex(h->ctx, key->data, (int) key->len, EVP_sha256(), NULL))
    {
        goto failed;
    }

#endif

    return h;

failed:

    ERR_clear_error();
    ngx_webpubsub_hmac_free(h);

    return NULL;
}


void
ngx_webpubsub_hmac_free(ngx_webpubsub_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    EVP_MAC_CTX_free(h->ctx);
#else
    HMAC_CTX_free(h->ctx);
#endif

    free(h);
}


int
ngx_webpubsub_hmac(ngx_webpubsub_hmac_t *h, const unsigned char *msg,
    size_t len, unsigned char *mac)
{
#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    int           ok;
    size_t        mac_len;
    EVP_MAC_CTX  *ctx;

    if (h->reinit) {
        /* a NULL key restarts the MAC with the key it was made with */
        ctx = h->ctx;
        ok = EVP_MAC_init(ctx, NULL, 0, NULL);

    } else {
        ctx = EVP_MAC_CTX_dup(h->ctx);
        ok = (ctx != NULL);
    }

    ok = ok
         && EVP_MAC_update(ctx, msg, len)
         && EVP_MAC_final(ctx, mac, &mac_len, NGX_WEBPUBSUB_SHA256_LEN)
         && mac_len == NGX_WEBPUBSUB_SHA256_LEN;

    if (ctx != h->ctx) {
        EVP_MAC_CTX_free(ctx);
    }

    if (!ok)
#else
    unsigned int  mac_len;

    if (!HMAC_Init_ex(h->ctx, NULL, 0, NULL, NULL)
        || !HMAC_Update(h->ctx, msg, len)
        || !HMAC_Final(h->ctx, mac, &mac_len)
        || mac_len != NGX_WEBPUBSUB_SHA256_LEN)
#endif
    {
        ERR_clear_error();
        return -1;
    }

    return 0;
}

#endif /* NGX_WEBPUBSUB_PAD_STATES */


int
ngx_webpubsub_jwt_sign(unsigned char *dst, size_t *dst_len,
    const unsigned char *payload, size_t payload_len,
    ngx_webpubsub_hmac_t *key)
{
    unsigned char  *d;
    unsigned char   mac[NGX_WEBPUBSUB_SHA256_LEN];

    d = ngx_webpubsub_cpylit(dst, ngx_webpubsub_jwt_header);
    *d++ = '.';
    d += ngx_webpubsub_base64url_encode(d, payload, payload_len);

    if (ngx_webpubsub_hmac(key, dst, d - dst, mac) != 0) {
        return -1;
    }

    *d++ = '.';
    d += ngx_webpubsub_base64url_encode(d, mac, sizeof(mac));

    /* the MAC is the token's signature, public from now on: no wipe */

    *dst_len = d - dst;

    return 0;
}


/*
 * A client token is the same bytes up to its "iat" for every request of a
 * location whose roles and groups are constants.  The template keeps them
 * encoded: the JWT header and the base64url of the claims' head up to a
 * multiple of 3 bytes (the 0-2 bytes left over are encoded with the rest
 * per request), and the inner SHA-256 state after the whole 64-byte
 * blocks of that, so a token costs the hash of what changes and little
 * else.  The audience after "exp" is constant too, but where its bytes
 * fall in base64url's 3-byte groups depends on the width of iat and exp:
 * it is kept encoded for each of the 3 alignments.  The bytes are those
 * ngx_webpubsub_client_claims() and ngx_webpubsub_jwt_sign() make.
 *
 * The times change once a second, and everything up to the hub changes
 * with them only: the first token of a second encodes the times and
 * hashes the whole blocks up to the audience's aligned part, and the
 * tokens after it in that second copy those bytes and resume from that
 * state, hashing only the hub, the user and the padding.
 */

typedef struct {
    size_t                 skip;        /* bytes encoded with the times */
    unsigned char         *enc;         /* base64url of the next ones */
    size_t                 enc_len;
    size_t                 rest;        /* bytes encoded with the hub */
} ngx_webpubsub_token_aud_t;


struct ngx_webpubsub_token_s {
    ngx_webpubsub_hmac_t  *key;
#if (NGX_WEBPUBSUB_PAD_STATES)
    SHA256_CTX             inner;       /* the key's, after "hashed" */
#endif
    size_t                 hashed;      /* bytes of prefix in inner */
    unsigned char         *prefix;      /* header "." base64url(head), */
    size_t                 prefix_len;  /* then the second's bytes */
    unsigned char          tail[2];     /* the head's bytes not encoded */
    size_t                 tail_len;
    unsigned char         *aud;         /* ,"aud":" and its escaped head */
    size_t                 aud_len;
    ngx_webpubsub_token_aud_t
                           aligned[3];  /* by the bytes before aud, mod 3 */

    /* the last token's times, kept while the second lasts */
    int64_t                iat;
    int64_t                exp;
    ngx_webpubsub_token_aud_t
                          *cur;         /* their audience's alignment */
    size_t                 first_len;   /* prefix and the times' bytes */
#if (NGX_WEBPUBSUB_PAD_STATES)
    SHA256_CTX             second;      /* inner, after "resumed" */
#endif
    size_t                 resumed;
};


ngx_webpubsub_token_t *
ngx_webpubsub_token_new(ngx_webpubsub_hmac_t *key,
    const ngx_webpubsub_str_t *aud, const ngx_webpubsub_str_t *roles,
    size_t nroles, const ngx_webpubsub_str_t *groups, size_t ngroups)
{
    size_t                      head_len, enc, k, n;
    unsigned char              *head, *p;
    ngx_webpubsub_token_t      *t;
    ngx_webpubsub_token_aud_t  *a;

    head_len = sizeof("{\"iat\":") - 1;

    if (nroles) {
        head_len += sizeof("\"role\":,") - 1
                    + ngx_webpubsub_json_array_length(roles, nroles);
    }

    if (ngroups) {
        head_len += sizeof("\"webpubsub.group\":,") - 1
                    + ngx_webpubsub_json_array_length(groups, ngroups);
    }

    enc = head_len / 3 * 3;

    t = calloc(1, sizeof(ngx_webpubsub_token_t));
    head = malloc(head_len);

    if (t == NULL || head == NULL) {
        goto failed;
    }

    t->key = key;

    /* the head as ngx_webpubsub_client_claims() begins it */

    p = head;
    *p++ = '{';

    if (nroles) {
        p = ngx_webpubsub_cpylit(p, "\"role\":");
        p = ngx_webpubsub_json_array(p, roles, nroles);
        *p++ = ',';
    }

    if (ngroups) {
        p = ngx_webpubsub_cpylit(p, "\"webpubsub.group\":");
        p = ngx_webpubsub_json_array(p, groups, ngroups);
        *p++ = ',';
    }

    p = ngx_webpubsub_cpylit(p, "\"iat\":");

    t->prefix_len = NGX_WEBPUBSUB_JWT_HEADER_LEN + 1
                    + ngx_webpubsub_base64url_length(enc);

    t->prefix = malloc(t->prefix_len);
    if (t->prefix == NULL) {
        goto failed;
    }

    p = ngx_webpubsub_cpylit(t->prefix, ngx_webpubsub_jwt_header);
    *p++ = '.';
    ngx_webpubsub_base64url_encode(p, head, enc);

    t->tail_len = head_len - enc;
    memcpy(t->tail, head + enc, t->tail_len);

    free(head);
    head = NULL;

    t->aud_len = sizeof(",\"aud\":\"") - 1
                 + ngx_webpubsub_json_escape_length(aud->data, aud->len);

    t->aud = malloc(t->aud_len);
    if (t->aud == NULL) {
        goto failed;
    }

    p = ngx_webpubsub_cpylit(t->aud, ",\"aud\":\"");
    ngx_webpubsub_json_escape(p, aud->data, aud->len);

    /* k bytes before the audience, mod 3: 3 - k of it complete a group */

    for (k = 0; k < 3; k++) {
        a = &t->aligned[k];

        a->skip = (3 - k) % 3;
        a->rest = (t->aud_len - a->skip) % 3;
        a->enc_len = ngx_webpubsub_base64url_length(t->aud_len - a->skip
                                                    - a->rest);

        a->enc = malloc(a->enc_len ? a->enc_len : 1);
        if (a->enc == NULL) {
            goto failed;
        }

        ngx_webpubsub_base64url_encode(a->enc, t->aud + a->skip,
                                       t->aud_len - a->skip - a->rest);
    }

    /* room after the prefix for a second's times and audience */

    n = 0;

    for (k = 0; k < 3; k++) {
        if (n < t->aligned[k].enc_len) {
            n = t->aligned[k].enc_len;
        }
    }

    n += ngx_webpubsub_base64url_length(sizeof(t->tail) + 2
                                        + NGX_WEBPUBSUB_TIMES_LEN);

    p = realloc(t->prefix, t->prefix_len + n);
    if (p == NULL) {
        goto failed;
    }

    t->prefix = p;

#if (NGX_WEBPUBSUB_PAD_STATES)

    t->hashed = t->prefix_len / SHA256_CBLOCK * SHA256_CBLOCK;
    t->inner = key->inner;

    if (!SHA256_Update(&t->inner, t->prefix, t->hashed)) {
        ERR_clear_error();
        goto failed;
    }

#endif

    return t;

failed:

    free(head);
    ngx_webpubsub_token_free(t);

    return NULL;
}


void
ngx_webpubsub_token_free(ngx_webpubsub_token_t *t)
{
    size_t  k;

    if (t == NULL) {
        return;
    }

    free(t->prefix);
    free(t->aud);

    for (k = 0; k < 3; k++) {
        free(t->aligned[k].enc);
    }

    /* the state signs any token that begins with this prefix */
    OPENSSL_cleanse(t, sizeof(ngx_webpubsub_token_t));
    free(t);
}


void
ngx_webpubsub_token_length(const ngx_webpubsub_token_t *t,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_str_t *sub,
    size_t *token_len, size_t *scratch_len)
{
    size_t  n;

    /* the claims from the head's tail on, as if all went through scratch */

    n = t->tail_len
        + NGX_WEBPUBSUB_INT64_LEN + sizeof(",\"exp\":") - 1
        + NGX_WEBPUBSUB_INT64_LEN
        + t->aud_len + ngx_webpubsub_json_escape_length(hub->data, hub->len)
        + sizeof("\"}") - 1;

    if (sub->len) {
        n += sizeof(",\"sub\":\"\"") - 1
             + ngx_webpubsub_json_escape_length(sub->data, sub->len);
    }

    *scratch_len = n;
    *token_len = t->prefix_len + ngx_webpubsub_base64url_length(n) + 1
                 + NGX_WEBPUBSUB_JWT_SIG_LEN;
}


int
ngx_webpubsub_token_sign(ngx_webpubsub_token_t *t,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_str_t *sub,
    int64_t iat, int64_t exp, unsigned char *dst, unsigned char *scratch,
    size_t *dst_len)
{
    int                         rc;
    unsigned char              *d, *c;
    unsigned char               mac[NGX_WEBPUBSUB_SHA256_LEN];
    ngx_webpubsub_token_aud_t  *a;

    if ((t->cur == NULL || iat != t->iat || exp != t->exp)
        && ngx_webpubsub_token_times(t, iat, exp) != 0)
    {
        return -1;
    }

    memcpy(dst, t->prefix, t->first_len);
    d = dst + t->first_len;

    /* the audience's last bytes, the hub and the user */

    a = t->cur;

    c = scratch;
    memcpy(c, t->aud + t->aud_len - a->rest, a->rest);
    c += a->rest;
    c = ngx_webpubsub_json_escape(c, hub->data, hub->len);
    *c++ = '"';

    if (sub->len) {
        c = ngx_webpubsub_cpylit(c, ",\"sub\":\"");
        c = ngx_webpubsub_json_escape(c, sub->data, sub->len);
        *c++ = '"';
    }

    *c++ = '}';

    d += ngx_webpubsub_base64url_encode(d, scratch, c - scratch);

#if (NGX_WEBPUBSUB_PAD_STATES)
    rc = ngx_webpubsub_hmac_resume(t->key, &t->second, dst + t->resumed,
                                   d - dst - t->resumed, mac);
#else
    rc = ngx_webpubsub_hmac(t->key, dst, d - dst, mac);
#endif

    if (rc != 0) {
        ERR_clear_error();
        return -1;
    }

    *d++ = '.';
    d += ngx_webpubsub_base64url_encode(d, mac, sizeof(mac));

    *dst_len = d - dst;

    return 0;
}


/*
 * A new second: after the prefix, the base64url of the head's tail, the
 * times and the audience's first bytes, then the audience encoded for
 * that alignment; and the inner state after the whole blocks of all that.
 */

static int
ngx_webpubsub_token_times(ngx_webpubsub_token_t *t, int64_t iat, int64_t exp)
{
    unsigned char              *p, *c;
    ngx_webpubsub_token_aud_t  *a;
    unsigned char               buf[sizeof(t->tail) + 2
                                    + NGX_WEBPUBSUB_TIMES_LEN];

    /* nothing is kept until all is done */

    t->cur = NULL;

    c = buf;
    memcpy(c, t->tail, t->tail_len);
    c += t->tail_len;
    c = ngx_webpubsub_int64(c, iat);
    c = ngx_webpubsub_cpylit(c, ",\"exp\":");
    c = ngx_webpubsub_int64(c, exp);

    a = &t->aligned[(c - buf) % 3];

    memcpy(c, t->aud, a->skip);
    c += a->skip;

    p = t->prefix + t->prefix_len;
    p += ngx_webpubsub_base64url_encode(p, buf, c - buf);
    memcpy(p, a->enc, a->enc_len);
    p += a->enc_len;

    t->first_len = p - t->prefix;

#if (NGX_WEBPUBSUB_PAD_STATES)

    t->resumed = t->first_len / SHA256_CBLOCK * SHA256_CBLOCK;
    t->second = t->inner;

    if (!SHA256_Update(&t->second, t->prefix + t->hashed,
                       t->resumed - t->hashed))
    {
        ERR_clear_error();
        return -1;
    }

#endif

    t->iat = iat;
    t->exp = exp;
    t->cur = a;

    return 0;
}


/*
 * The event types the service sends: the three system events and user
 * events "azure.webpubsub.user.<name>" (MQTT uses the same types).
 */

const char *
ngx_webpubsub_check_event_type(const unsigned char *type, size_t len)
{
    size_t         i;
    unsigned char  c;

    static const char  user[] = "azure.webpubsub.user.";

    if (len > NGX_WEBPUBSUB_ATTR_MAX) {
        return "ce-type is too long";
    }

    if ((len == sizeof("azure.webpubsub.sys.connect") - 1
         && memcmp(type, "azure.webpubsub.sys.connect", len) == 0)
        || (len == sizeof("azure.webpubsub.sys.connected") - 1
            && memcmp(type, "azure.webpubsub.sys.connected", len) == 0)
        || (len == sizeof("azure.webpubsub.sys.disconnected") - 1
            && memcmp(type, "azure.webpubsub.sys.disconnected", len) == 0))
    {
        return NULL;
    }

    if (len <= sizeof(user) - 1 || memcmp(type, user, sizeof(user) - 1) != 0)
    {
        return "ce-type is not a Web PubSub event type";
    }

    for (i = sizeof(user) - 1; i < len; i++) {
        c = type[i];

        if (c < 0x20 || c == 0x7f) {
            return "ce-type has an invalid event name";
        }
    }

    return NULL;
}


static int
ngx_webpubsub_base64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '_') {
        return 63;
    }

    return -1;
}


/* the value of a hexadecimal digit of either case, or -1 */

static const signed char  ngx_webpubsub_hex[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


int
ngx_webpubsub_hexval(unsigned char c)
{
    return ngx_webpubsub_hex[c];
}


/*
 * The next item of a list separated by commas and white space, the form
 * of ce-signature and of WebHook-Request-Origin; 0 at the end.
 */

static size_t
ngx_webpubsub_list_next(const unsigned char **p, const unsigned char *end,
    const unsigned char **item)
{
    const unsigned char  *s;

    s = *p;

    while (s < end && ngx_webpubsub_list_sep(*s)) {
        s++;
    }

    *item = s;

    while (s < end && !ngx_webpubsub_list_sep(*s)) {
        s++;
    }

    *p = s;

    return s - *item;
}


/*
 * Whether any "sha256=<hex>" in a ce-signature value is mac.  Hex may be
 * of either case.  Every well-formed candidate is compared in full, in
 * constant time, so timing tells nothing of where a forgery differs.
 */

/*
 * A webhook's ce-signature is HMAC-SHA256(key, ce-connectionId), and a
 * JWT's signature is HMAC-SHA256(key, "header.payload") with the same key:
 * were such a signing input taken as a connection id, every client or REST
 * token would sign a forged event.  The service's connection ids never
 * look like one, so this shape is refused: two base64url parts joined by a
 * dot, the first decoding to a JSON object (a JWS header).  Returns 1 for
 * that shape, 0 otherwise.
 */

int
ngx_webpubsub_jws_shaped(const unsigned char *s, size_t len)
{
    int             c, shaped;
    size_t          i, dot, n;
    json_t         *header;
    uint32_t        acc;
    unsigned int    bits;
    json_error_t    err;
    unsigned char   buf[NGX_WEBPUBSUB_ATTR_MAX / 4 * 3 + 3];

    /* the service's ids have no dot: they go no further */

    if (len == 0 || len > NGX_WEBPUBSUB_ATTR_MAX
        || memchr(s, '.', len) == NULL)
    {
        return 0;
    }

    dot = len;

    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (dot != len) {
                return 0;
            }

            dot = i;
            continue;
        }

        if (ngx_webpubsub_base64url_value(s[i]) < 0) {
            return 0;
        }
    }

    /* a part of 4k + 1 characters is no base64url at all */
    if (dot == 0 || dot == len || dot + 1 == len || dot % 4 == 1) {
        return 0;
    }

    n = 0;
    acc = 0;
    bits = 0;

    for (i = 0; i < dot; i++) {
        c = ngx_webpubsub_base64url_value(s[i]);
        acc = (acc << 6) | (uint32_t) c;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char) (acc >> bits);
        }
    }

    header = json_loadb((const char *) buf, n, 0, &err);
    shaped = json_is_object(header);
    json_decref(header);

    return shaped;
}


/* the hex digits of a SHA-256 MAC, as 64-bit words */
#define NGX_WEBPUBSUB_HEX_WORDS                                              \
    (2 * NGX_WEBPUBSUB_SHA256_LEN / sizeof(uint64_t))

/* every byte in lower-case hex, two digits each */
static const char  ngx_webpubsub_hex_pairs[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";


int
ngx_webpubsub_signature_match(const unsigned char *value, size_t len,
    const unsigned char mac[NGX_WEBPUBSUB_SHA256_LEN])
{
    int                   found;
    size_t                i, count;
    uint64_t              w, diff;
    uint64_t              want[NGX_WEBPUBSUB_HEX_WORDS];
    uint64_t              letters[NGX_WEBPUBSUB_HEX_WORDS];
    unsigned char        *hex;
    const unsigned char  *p, *end, *item;

    /*
     * The MAC as the service writes it, in lower-case hex, compared 8
     * digits at a time.  A byte of an item may differ from its digit only
     * in bit 0x20, and only where the digit is a letter (bit 0x40 set):
     * that admits the upper-case spelling and nothing else.
     */

    hex = (unsigned char *) want;

    for (i = 0; i < NGX_WEBPUBSUB_SHA256_LEN; i++) {
        memcpy(hex + 2 * i, &ngx_webpubsub_hex_pairs[2 * mac[i]], 2);
    }

    for (i = 0; i < NGX_WEBPUBSUB_HEX_WORDS; i++) {
        letters[i] = (want[i] & 0x4040404040404040ULL) >> 1;
    }

    p = value;
    end = value + len;
    found = 0;
    count = 0;

    for ( ;; ) {

        while (p < end && ngx_webpubsub_list_sep(*p)) {
            p++;
        }

        if (p == end || ++count > NGX_WEBPUBSUB_SIGNATURES_MAX) {
            break;
        }

        /*
         * An item of "sha256=" and 64 bytes ending at a separator is
         * compared whole.  Should it hold a separator, the items it holds
         * are too short to be signatures, so it is passed over whole all
         * the same; any other item is passed over as a list's.
         */

        if ((size_t) (end - p) >= NGX_WEBPUBSUB_SIGNATURE_LEN
            && (p + NGX_WEBPUBSUB_SIGNATURE_LEN == end
                || ngx_webpubsub_list_sep(p[NGX_WEBPUBSUB_SIGNATURE_LEN]))
            && ngx_webpubsub_strcaseeq(p, sizeof("sha256=") - 1, "sha256="))
        {
            item = p + sizeof("sha256=") - 1;
            diff = 0;

            for (i = 0; i < NGX_WEBPUBSUB_HEX_WORDS; i++) {
                memcpy(&w, item + sizeof(w) * i, sizeof(w));
                diff |= (w ^ want[i]) & ~letters[i];
            }

            found |= (diff == 0);
            p += NGX_WEBPUBSUB_SIGNATURE_LEN;
            continue;
        }

        (void) ngx_webpubsub_list_next(&p, end, &item);
    }

    /* for a forged event, the valid signature exists nowhere else */

    ngx_webpubsub_wipe(want, sizeof(want));
    ngx_webpubsub_wipe(letters, sizeof(letters));

    return found;
}


/*
 * The index of the allowed origin that one of the origins in a
 * WebHook-Request-Origin value equals (ignoring case), or -1.  "*" in
 * the allowed list matches any origin.
 */

int
ngx_webpubsub_origin_match(const unsigned char *value, size_t len,
    const ngx_webpubsub_str_t *allowed, size_t nallowed)
{
    size_t                i, n, count;
    const unsigned char  *p, *end, *item;

    p = value;
    end = value + len;
    count = 0;

    while ((n = ngx_webpubsub_list_next(&p, end, &item)) != 0) {

        if (++count > NGX_WEBPUBSUB_ORIGINS_MAX) {
            break;
        }

        for (i = 0; i < nallowed; i++) {
            if ((allowed[i].len == 1 && allowed[i].data[0] == '*')
                || (allowed[i].len == n
                    && ngx_webpubsub_strncaseeq(item, allowed[i].data, n)))
            {
                return (int) i;
            }
        }
    }

    return -1;
}
