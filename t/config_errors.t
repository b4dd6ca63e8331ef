#!/usr/bin/perl

# Configuration errors: nginx -t fails with one [emerg] line that names the
# directive and the problem; good configurations pass.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->write_file('empty.key', "\n");
$t->write_file('good.key', "k\n");

my $CS = 'Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;';

# [ name, http-level lines, location lines, expected error (regex) or undef ]
my @cases = (
    [ 'connection string without Endpoint',
      'webpubsub_connection_string "AccessKey=abc;Version=1.0;";', '',
      qr/"webpubsub_connection_string" directive has no Endpoint/ ],
    [ 'connection string with an empty Endpoint',
      'webpubsub_connection_string "Endpoint=;AccessKey=abc";', '',
      qr/"webpubsub_connection_string" directive has no Endpoint/ ],
    [ 'connection string without AccessKey',
      'webpubsub_connection_string "Endpoint=http://h;Version=1.0;";', '',
      qr/"webpubsub_connection_string" directive has no AccessKey/ ],
    [ 'connection string with two AccessKeys',
      'webpubsub_connection_string "Endpoint=http://h;AccessKey=a;accesskey=b";',
      '', qr/"webpubsub_connection_string" directive has more than one AccessKey/ ],
    [ 'connection string with two Endpoints',
      'webpubsub_connection_string "Endpoint=http://h;AccessKey=a;Endpoint=http://i";',
      '', qr/"webpubsub_connection_string" directive has more than one Endpoint/ ],
    [ 'Port 0',
      'webpubsub_connection_string "Endpoint=http://h;AccessKey=a;Port=0";', '',
      qr/"webpubsub_connection_string" directive has a Port that is not a number from 1 to 65535/ ],
    [ 'Port 65536',
      'webpubsub_connection_string "Endpoint=http://h;AccessKey=a;Port=65536";',
      '', qr/directive has a Port that is not a number from 1 to 65535/ ],
    [ 'Port not a number',
      'webpubsub_connection_string "Endpoint=http://h;AccessKey=a;Port=80a";',
      '', qr/directive has a Port that is not a number from 1 to 65535/ ],
    [ 'ftp endpoint in a connection string',
      'webpubsub_connection_string "Endpoint=ftp://h;AccessKey=a";', '',
      qr/"webpubsub_connection_string" directive has an endpoint that is not http or https/ ],
    [ 'ws endpoint',
      'webpubsub_endpoint ws://h; webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has an endpoint that is not http or https/ ],
    [ 'endpoint with a query',
      'webpubsub_endpoint "http://h/?a=b"; webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has an endpoint with a query or fragment/ ],
    [ 'endpoint without a host',
      'webpubsub_endpoint http://; webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has an endpoint without a host/ ],
    [ 'endpoint and connection string on one level',
      "webpubsub_endpoint http://h; webpubsub_connection_string \"$CS\";", '',
      qr/"webpubsub_connection_string" directive is duplicate/ ],
    [ 'unreadable key file',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/missing.key;',
      '', qr/"webpubsub_access_key_file" directive cannot open ".*missing\.key" \(2: No such file or directory\)/ ],
    [ 'empty key file',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/empty.key;',
      '', qr/"webpubsub_access_key_file" directive: ".*empty\.key" is empty/ ],
    [ 'key file that is a directory',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%;',
      '', qr/"webpubsub_access_key_file" directive: ".*" is not a regular file/ ],
    [ 'empty access key',
      'webpubsub_endpoint http://h; webpubsub_access_key "";', '',
      qr/"webpubsub_access_key" directive has an empty key/ ],
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
      qr/"webpubsub_token" directive has an endpoint but no webpubsub_access_key or webpubsub_access_key_file on the same level in .*:\d+/ ],
    [ 'an endpoint alone on a level inherits no key',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_endpoint http://other.example; webpubsub_token;',
      qr/"webpubsub_token" directive has an endpoint but no webpubsub_access_key or webpubsub_access_key_file on the same level/ ],
    [ 'a key alone on a level inherits no endpoint',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_access_key other-key; webpubsub_token;',
      qr/"webpubsub_token" directive has an access key but no webpubsub_endpoint on the same level/ ],
    [ 'TTL over a year',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_ttl 366d; webpubsub_token;',
      qr/"webpubsub_token_ttl" directive must not be more than 365d/ ],
    [ 'endpoint with a dot segment',
      'webpubsub_endpoint http://h/a/../b; webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has an endpoint with a "." or ".." path segment/ ],
    [ 'webpubsub_token without a hub',
      "webpubsub_connection_string \"$CS\";", 'webpubsub_token;',
      qr/"webpubsub_token" directive has no webpubsub_hub configured/ ],
    [ 'static hub that does not start with a letter',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub 1chat;", '',
      qr/"webpubsub_hub" directive: hub name "1chat" does not start with a letter/ ],
    [ 'static hub with a bad character',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub ch-at;", '',
      qr/"webpubsub_hub" directive: hub name "ch-at" has a character other than/ ],
    [ 'static hub of 129 characters',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub " . ('h' x 129) . ';',
      '', qr/"webpubsub_hub" directive: hub name "h+" is longer than 128 characters/ ],
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

    [ 'event handler without a key',
      'webpubsub_hub chat; webpubsub_allowed_origins a.example;',
      'webpubsub_event_handler on;',
      qr/"webpubsub_event_handler" is on with no webpubsub_access_key, webpubsub_access_key_file or webpubsub_connection_string configured/ ],
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
    [ 'a full configuration',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_token_user_id $arg_u; webpubsub_token_roles a $arg_r;'
      . ' webpubsub_token_groups g; webpubsub_token_ttl 10m;'
      . ' webpubsub_token_protocol mqtt; webpubsub_token;', undef ],
    [ 'endpoint with several keys and a key file',
      'webpubsub_endpoint https://x.webpubsub.azure.com; webpubsub_hub $arg_h;'
      . ' webpubsub_access_key a; webpubsub_access_key_file %%TESTDIR%%/good.key;',
      'webpubsub_token;', undef ],
    [ 'a hub with variables is checked per request, not here',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub \$arg_hub;",
      'webpubsub_token;', undef ],
    [ 'variables without webpubsub_token need no service',
      '', 'return 200 "$webpubsub_token$webpubsub_client_url";', undef ],
);

$t->plan(3 * @cases);

for my $c (@cases) {
    my ($name, $http, $loc, $want) = @$c;

    my ($code, $out) = $t->nginx_t(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    $http
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location / {
            $loc
        }
    }
}
EOF

    if (defined $want) {
        isnt($code, 0, "$name: nginx -t fails");
        like($out, $want, "$name: the message names the directive");
        my @emerg = grep { /\[emerg\]/ } split /\n/, $out;
        is(scalar @emerg, 1, "$name: one [emerg] line")
            or diag($out);
    } else {
        is($code, 0, "$name: nginx -t passes") or diag($out);
        unlike($out, qr/\[(emerg|alert|crit|error)\]/, "$name: no errors");
        like($out, qr/test is successful/, "$name: test is successful");
    }
}

$t->done();
