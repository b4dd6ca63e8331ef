#!/usr/bin/perl

# One content handler per location, and a gateway that leads somewhere:
# mistakes that used to pass nginx -t and then failed without a word.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

my $APP = 'proxy_pass http://127.0.0.1:9;';

# [ name, server lines, expected error (regex) or undef ]
my @cases = (
    [ 'webpubsub_token, then proxy_pass',
      "location /n { webpubsub_token; $APP }",
      qr/"webpubsub_token" directive in \S+:\d+ shares its location with another content handler \(proxy_pass, webpubsub_token, webpubsub_rest, \.\.\.\): keep one of them/ ],
    [ 'proxy_pass, then webpubsub_token',
      "location /n { $APP webpubsub_token; }",
      qr/"webpubsub_token" directive is duplicate: this location already has a content handler \(proxy_pass, webpubsub_rest, \.\.\.\) in \S+:\d+/ ],
    [ 'webpubsub_token, then webpubsub_rest',
      'location /n { webpubsub_token; webpubsub_rest health; }',
      qr/"webpubsub_(token|rest)" directive/ ],
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

$t->plan(3 * @cases);

for my $c (@cases) {
    my ($name, $server, $want) = @$c;

    my $conf = <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    webpubsub_connection_string
        "Endpoint=http://127.0.0.1;Port=8080;AccessKey=abc;Version=1.0;";
    webpubsub_hub chat;
    webpubsub_rest_pass /_webpubsub/;
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location /_webpubsub/ { internal; proxy_pass http://127.0.0.1:8080; }
        $server
    }
}
EOF

    $t->nginx_t_case($name, $conf, $want);
}

$t->done();
