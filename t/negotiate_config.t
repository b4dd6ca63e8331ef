#!/usr/bin/perl

# Configuration errors of negotiate (webpubsub_token and its
# webpubsub_token_* directives): nginx -t fails with one [emerg] line that
# names the directive and the problem; good configurations pass.

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
my @cases = (
    [ 'unknown protocol',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_protocol signalr; webpubsub_token;',
      qr/"webpubsub_token_protocol" directive: unknown protocol "signalr"/ ],
    [ 'TTL of zero',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_ttl 0; webpubsub_token;',
      qr/"webpubsub_token_ttl" directive must be more than 0/ ],
    [ 'TTL that is not a time',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_ttl soon; webpubsub_token;',
      qr/"webpubsub_token_ttl" directive invalid value/ ],
    [ 'webpubsub_token without a service',
      'webpubsub_hub chat;', 'webpubsub_token;',
      qr/"webpubsub_token" directive has no webpubsub_endpoint or webpubsub_connection_string configured in .*:\d+/ ],
    [ 'webpubsub_token without a key',
      'webpubsub_hub chat; webpubsub_endpoint http://h;', 'webpubsub_token;',
      qr/"webpubsub_token" directive has an endpoint \(set in \S+:\d+\) but no webpubsub_access_key, webpubsub_access_key_file or webpubsub_credential on the same level in .*:\d+/ ],
    [ 'TTL over a year',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_ttl 366d; webpubsub_token;',
      qr/"webpubsub_token_ttl" directive must not be more than 365d/ ],
    [ 'webpubsub_token without a hub',
      "webpubsub_connection_string \"$CS\";", 'webpubsub_token;',
      qr/"webpubsub_token" directive has no webpubsub_hub configured/ ],
    [ 'webpubsub_token twice',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token; webpubsub_token;',
      qr/"webpubsub_token" directive is duplicate/ ],
    [ 'webpubsub_token with an argument',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token on;',
      qr/invalid number of arguments in "webpubsub_token" directive/ ],
    [ 'webpubsub_token_roles twice on a level',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_roles a; webpubsub_token_roles b; webpubsub_token;',
      qr/"webpubsub_token_roles" directive is duplicate/ ],
    [ 'a full configuration',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_user_id $arg_u; webpubsub_token_roles a $arg_r;'
      . ' webpubsub_token_groups g; webpubsub_token_ttl 10m;'
      . ' webpubsub_token_protocol mqtt; webpubsub_token;', undef ],
    [ 'variables without webpubsub_token need no service',
      '', 'return 200 "$webpubsub_token$webpubsub_client_url";', undef ],
);

# one content handler per location: [ name, server lines, expected error ]
my @handlers = (
    [ 'webpubsub_token, then proxy_pass',
      "location /n { webpubsub_token; $APP }",
      qr/"webpubsub_token" directive in \S+:\d+ shares its location with another content handler \(proxy_pass, webpubsub_token, webpubsub_rest, \.\.\.\): keep one of them/ ],
    [ 'proxy_pass, then webpubsub_token',
      "location /n { $APP webpubsub_token; }",
      qr/"webpubsub_token" directive is duplicate: this location already has a content handler \(proxy_pass, webpubsub_rest, \.\.\.\) in \S+:\d+/ ],
    [ 'webpubsub_token, then webpubsub_rest',
      'location /n { webpubsub_token; webpubsub_rest health; }',
      qr/"webpubsub_(token|rest)" directive/ ],
);

$t->plan(3 * @cases + 3 * @handlers);

for my $c (@cases) {
    my ($name, $http, $loc, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_location($http, $loc), $want);
}

for my $c (@handlers) {
    my ($name, $server, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_service($server), $want);
}

# the server lines in a configuration with a service, a hub and the
# internal location of webpubsub_rest_pass
$t->done();
