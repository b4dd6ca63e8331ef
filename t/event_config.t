#!/usr/bin/perl

# Configuration errors of the event handler gateway
# (webpubsub_event_handler, webpubsub_allowed_origins,
# webpubsub_refuse_stray_events): nginx -t fails with one [emerg] line that
# names the directive and the problem; good configurations pass.  Among
# them, a gateway that leads somewhere and stays out of the locations of
# webpubsub_token and webpubsub_rest: mistakes that used to pass nginx -t
# and then failed without a word.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

my $CS = 'Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;';

my $APP = 'proxy_pass http://127.0.0.1:9;';

# [ name, http-level lines, location lines, expected error (regex) or undef ]
my @directives = (
    [ 'event handler without a key',
      'webpubsub_hub chat; webpubsub_allowed_origins a.example;',
      'webpubsub_event_handler on;',
      qr/"webpubsub_event_handler" is on with no webpubsub_access_key, webpubsub_access_key_file, webpubsub_connection_string or webpubsub_event_auth configured/ ],
    [ 'event handler without a hub',
      "webpubsub_connection_string \"$CS\";", 'webpubsub_event_handler on;',
      qr/"webpubsub_event_handler" is on with no webpubsub_hub configured/ ],
    [ 'event handler without origins or endpoint',
      'webpubsub_access_key k; webpubsub_hub chat;',
      'webpubsub_event_handler on;',
      qr/"webpubsub_event_handler" is on with no webpubsub_allowed_origins or endpoint configured/ ],
    [ 'event handler with a bad flag',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_event_handler yes;',
      qr/invalid value "yes" in "webpubsub_event_handler" directive, it must be "on" or "off"/ ],
    [ 'an origin list in one argument',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_event_handler on; webpubsub_allowed_origins "a.example, b.example";',
      qr/"webpubsub_allowed_origins" directive: invalid origin "a\.example, b\.example", give one host name per argument/ ],
    [ 'webpubsub_allowed_origins twice',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_allowed_origins a; webpubsub_allowed_origins b;',
      qr/"webpubsub_allowed_origins" directive is duplicate/ ],

    # configurations that must pass
    [ 'an event handler with keys and origins but no endpoint',
      'webpubsub_access_key k1; webpubsub_access_key k2; webpubsub_hub $host;',
      'webpubsub_event_handler on; webpubsub_allowed_origins * ;'
      . ' proxy_pass http://127.0.0.1:1;', undef ],
    [ 'an event handler on a server with the endpoint\'s host as origin',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;"
      . ' webpubsub_event_handler on;', 'proxy_pass http://127.0.0.1:1;',
      undef ],
);

# [ name, server lines, expected error (regex) or undef ], in a
# configuration with a service, a hub and a REST location
my @cases = (
    [ 'the gateway in the location of webpubsub_token',
      'location /n { webpubsub_event_handler on; webpubsub_token; }',
      qr/"webpubsub_event_handler" in \S+:\d+ is on in the location of "webpubsub_token" in \S+:\d+: turn it off there/ ],
    [ 'the gateway of the server over webpubsub_token',
      'webpubsub_event_handler on; location /n { webpubsub_token; }',
      qr/"webpubsub_event_handler" in \S+:\d+ is on in the location of "webpubsub_token"/ ],
    [ 'the gateway in the location of webpubsub_rest',
      'location /n { webpubsub_event_handler on; webpubsub_rest health; }',
      qr/"webpubsub_event_handler" in \S+:\d+ is on in the location of "webpubsub_rest" in \S+:\d+: turn it off there/ ],
    [ 'a gated location without a content handler',
      'location /eventhandler/ { webpubsub_event_handler on; }',
      qr/"webpubsub_event_handler" in \S+:\d+ is on in location "\/eventhandler\/", which has no content handler: add proxy_pass \(or fastcgi_pass, \.\.\.\) to the application/ ],
    [ 'a gated named location without a content handler',
      'location @events { webpubsub_event_handler on; }',
      qr/is on in location "\@events", which has no content handler/ ],
    [ 'a gated location that proxies',
      "location /eventhandler/ { webpubsub_event_handler on; $APP }",
      undef ],
    [ 'a gated location with try_files to a named location',
      'location /eventhandler/ { webpubsub_event_handler on;'
      . ' try_files /nothing @app; }'
      . " location \@app { $APP }",
      undef ],
    [ 'a gated location with nested locations',
      'location /eventhandler/ { webpubsub_event_handler on;'
      . " location /eventhandler/chat/ { $APP } }",
      undef ],
    [ 'the gateway of the server over a static location',
      'webpubsub_event_handler on; location /static/ { }',
      undef ],
    [ 'webpubsub_refuse_stray_events on',
      "webpubsub_refuse_stray_events on; location / { $APP }"
      . " location /eventhandler/ { webpubsub_event_handler on; $APP }",
      undef ],
    [ 'webpubsub_refuse_stray_events with a bad value',
      'webpubsub_refuse_stray_events yes;',
      qr/invalid value "yes" in "webpubsub_refuse_stray_events" directive, it must be "on" or "off"/ ],
);

$t->plan(3 * @directives + 3 * @cases);

for my $c (@directives) {
    my ($name, $http, $loc, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_location($http, $loc), $want);
}

for my $c (@cases) {
    my ($name, $server, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_service($server), $want);
}

$t->done();
