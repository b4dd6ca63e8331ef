
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * The Web PubSub protocol core: connection strings, endpoints, hub names,
 * base64url, JSON string escaping and HS256 JWTs.  Plain C99 on OpenSSL,
 * with no nginx run-time calls, so that unit tests and fuzzers link it
 * without nginx.  Functions write into buffers the caller provides and
 * report errors as static strings.  The REST API is declared in
 * ngx_webpubsub_rest.h; what remote services answer is parsed by
 * the functions of ngx_webpubsub_reply.h, and only there.
 */


#ifndef _NGX_WEBPUBSUB_CORE_H_INCLUDED_
#define _NGX_WEBPUBSUB_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>


/* limits on what the core accepts; every caller relies on them */
#define NGX_WEBPUBSUB_ENDPOINT_MAX     2048
#define NGX_WEBPUBSUB_HUB_MAX          128
#define NGX_WEBPUBSUB_KEY_MAX          4096

#define NGX_WEBPUBSUB_SHA256_LEN       32

/* CloudEvents attributes longer than this are refused (as long as the
 * longest user id a token may carry) */
#define NGX_WEBPUBSUB_ATTR_MAX         4096
/* at most this many candidates are read from one ce-signature value (and
 * lines of it), and origins from one WebHook-Request-Origin value; more
 * are ignored */
#define NGX_WEBPUBSUB_SIGNATURES_MAX   16
#define NGX_WEBPUBSUB_ORIGINS_MAX      16

#define NGX_WEBPUBSUB_PROTOCOL_DEFAULT   0
#define NGX_WEBPUBSUB_PROTOCOL_MQTT      1
#define NGX_WEBPUBSUB_PROTOCOL_SOCKETIO  2


/* a string literal copied to dst; the end of the copy */
#define ngx_webpubsub_cpylit(dst, lit)                                      \
    (memcpy(dst, lit, sizeof(lit) - 1), (dst) + sizeof(lit) - 1)


typedef struct {
    const unsigned char  *data;
    size_t                len;
} ngx_webpubsub_str_t;


/*
 * A key made ready for HMAC-SHA256 once, at configuration time, so that a
 * MAC per request costs the hash and little else.  Not for concurrent use:
 * each nginx worker is one thread and has its own copy after fork().
 */
typedef struct ngx_webpubsub_hmac_s  ngx_webpubsub_hmac_t;


/*
 * The constant part of a location's client tokens, made once from its
 * key, audience (up to the hub) and constant roles and groups; or of its
 * REST tokens, with an empty audience and no roles or groups.
 */
typedef struct ngx_webpubsub_token_s  ngx_webpubsub_token_t;


/* slices of the input string; data is NULL where the key is absent */
typedef struct {
    ngx_webpubsub_str_t   endpoint;
    ngx_webpubsub_str_t   access_key;
    ngx_webpubsub_str_t   port;
} ngx_webpubsub_conn_str_t;


/*
 * A normalised endpoint, "scheme://host[:port]/[path/]", always ending
 * in "/", the form every SDK joins client and REST paths onto.  The
 * offsets point into buf.
 */
typedef struct {
    unsigned char         buf[NGX_WEBPUBSUB_ENDPOINT_MAX];
    size_t                len;
    size_t                host_start;
    size_t                host_len;    /* host name, no port */
    size_t                path_start;  /* the "/" after the authority */
    unsigned              secure;
} ngx_webpubsub_endpoint_t;


typedef struct {
    ngx_webpubsub_str_t        aud;
    ngx_webpubsub_str_t        sub;     /* len 0: no "sub" claim */
    const ngx_webpubsub_str_t *roles;
    size_t                     nroles;  /* 0: no "role" claim */
    const ngx_webpubsub_str_t *groups;
    size_t                     ngroups; /* 0: no "webpubsub.group" */
    int64_t                    iat;
    int64_t                    exp;
} ngx_webpubsub_claims_t;


const char *ngx_webpubsub_parse_connection_string(const unsigned char *s,
    size_t len, ngx_webpubsub_conn_str_t *cs);
const char *ngx_webpubsub_parse_endpoint(const unsigned char *url,
    size_t len, const ngx_webpubsub_str_t *port,
    ngx_webpubsub_endpoint_t *ep);
/*
 * An endpoint that parses but cannot be the service's: a client URL given
 * for the resource's origin, or an Azure Web PubSub host without https.
 * Returns the mistake, or NULL; fix (NGX_WEBPUBSUB_ENDPOINT_MAX bytes)
 * gets the endpoint to give instead.  Also takes ws:// and wss://, which
 * parse_endpoint() refuses, to say what they should be.
 */
const char *ngx_webpubsub_endpoint_mistake(const unsigned char *url,
    size_t len, const ngx_webpubsub_str_t *port, unsigned char *fix,
    size_t *fix_len);

/*
 * The key in a key file's contents: the first line, without the white
 * space and line end after it.  Returns why the contents are no key file
 * (the key would carry a mistake silently), or NULL.
 */
const char *ngx_webpubsub_key_file(const unsigned char *data, size_t len,
    ngx_webpubsub_str_t *key);

const char *ngx_webpubsub_check_hub(const unsigned char *hub, size_t len);

const char *ngx_webpubsub_client_path(unsigned protocol);
size_t ngx_webpubsub_client_base_url(const ngx_webpubsub_endpoint_t *ep,
    unsigned char *dst);

size_t ngx_webpubsub_base64url_length(size_t n);
size_t ngx_webpubsub_base64url_encode(unsigned char *dst,
    const unsigned char *src, size_t n);
/*
 * 0, or -1 if src is no canonical unpadded base64url; dst holds
 * n / 4 * 3 + 2 bytes
 */
int ngx_webpubsub_base64url_decode(unsigned char *dst, size_t *dst_len,
    const unsigned char *src, size_t n);

size_t ngx_webpubsub_json_escape_length(const unsigned char *s, size_t n);
unsigned char *ngx_webpubsub_json_escape(unsigned char *dst,
    const unsigned char *s, size_t n);

size_t ngx_webpubsub_client_claims_length(const ngx_webpubsub_claims_t *c);
unsigned char *ngx_webpubsub_client_claims(unsigned char *dst,
    const ngx_webpubsub_claims_t *c);

size_t ngx_webpubsub_jwt_length(size_t payload_len);
int ngx_webpubsub_jwt_sign(unsigned char *dst, size_t *dst_len,
    const unsigned char *payload, size_t payload_len,
    ngx_webpubsub_hmac_t *key);

/*
 * A client token from a template: what ngx_webpubsub_client_claims() and
 * ngx_webpubsub_jwt_sign() make of the template's claims with the audience
 * completed by hub, and sub, iat and exp.  The hub is escaped on its own,
 * so it must not continue a UTF-8 sequence the audience began (a checked
 * hub is ASCII).  token_length() gives the room sign() needs in dst (an
 * upper bound of the token) and in scratch.  A template keeps the last
 * token's times: like a key, it is not for concurrent use.  A REST token,
 * {"iat","exp","aud"}, is a template's with an empty audience, the call's
 * URL as hub and no sub.
 */
ngx_webpubsub_token_t *ngx_webpubsub_token_new(ngx_webpubsub_hmac_t *key,
    const ngx_webpubsub_str_t *aud, const ngx_webpubsub_str_t *roles,
    size_t nroles, const ngx_webpubsub_str_t *groups, size_t ngroups);
void ngx_webpubsub_token_free(ngx_webpubsub_token_t *t);
void ngx_webpubsub_token_length(const ngx_webpubsub_token_t *t,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_str_t *sub,
    size_t *token_len, size_t *scratch_len);
int ngx_webpubsub_token_sign(ngx_webpubsub_token_t *t,
    const ngx_webpubsub_str_t *hub, const ngx_webpubsub_str_t *sub,
    int64_t iat, int64_t exp, unsigned char *dst, unsigned char *scratch,
    size_t *dst_len);

ngx_webpubsub_hmac_t *ngx_webpubsub_hmac_new(const ngx_webpubsub_str_t *key);
void ngx_webpubsub_hmac_free(ngx_webpubsub_hmac_t *h);
int ngx_webpubsub_hmac(ngx_webpubsub_hmac_t *h, const unsigned char *msg,
    size_t len, unsigned char *mac);

int ngx_webpubsub_hmac_sha256(const ngx_webpubsub_str_t *key,
    const unsigned char *msg, size_t len, unsigned char *mac);

const char *ngx_webpubsub_check_event_type(const unsigned char *type,
    size_t len);
int ngx_webpubsub_signature_match(const unsigned char *value, size_t len,
    const unsigned char mac[NGX_WEBPUBSUB_SHA256_LEN]);
/* n bytes of a secret zeroed, in a way no compiler leaves out */
void ngx_webpubsub_wipe(void *p, size_t n);
int ngx_webpubsub_origin_match(const unsigned char *value, size_t len,
    const ngx_webpubsub_str_t *allowed, size_t nallowed);
int ngx_webpubsub_jws_shaped(const unsigned char *s, size_t len);

int ngx_webpubsub_strncaseeq(const unsigned char *a, const unsigned char *b,
    size_t len);
int ngx_webpubsub_hexval(unsigned char c);
size_t ngx_webpubsub_utf8_next(const unsigned char *p,
    const unsigned char *end, int *valid);
uint32_t ngx_webpubsub_utf8_value(const unsigned char *p, size_t n);
int ngx_webpubsub_utf8_valid(const unsigned char *s, size_t n);
int ngx_webpubsub_js_space(uint32_t cp);


#endif /* _NGX_WEBPUBSUB_CORE_H_INCLUDED_ */
