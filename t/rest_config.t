#!/usr/bin/perl

# Configuration errors of REST (webpubsub_rest, webpubsub_rest_pass and
# the parameters of each operation): nginx -t fails with one [emerg] line
# that names the directive and the problem; good configurations pass.  The
# bounds of literal values are in rest_limits.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

my $CS = 'Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;';

# [ name, http-level lines, location lines, expected error (regex) or undef ]
my @cases = (
    [ 'REST: unknown operation',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest sendToAll;',
      qr/"webpubsub_rest" directive: unknown operation "sendToAll"/ ],
    [ 'REST: unknown parameter',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_group group=g room=r;',
      qr/"webpubsub_rest" directive: unknown parameter "room"/ ],
    [ 'REST: a parameter the operation does not take',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_user user=u excluded=c;',
      qr/"webpubsub_rest" directive: operation "send_to_user" takes no parameter "excluded"/ ],
    [ 'REST: a parameter that is not name=value',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_group $arg_g;',
      qr/"webpubsub_rest" directive: "\$arg_g" is not name=value/ ],
    [ 'REST: a required parameter missing',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_group filter=x;',
      qr/"webpubsub_rest" directive: operation "send_to_group" needs parameter "group"/ ],
    [ 'REST: a single parameter given twice',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest close_connection connection=a connection=b;',
      qr/"webpubsub_rest" directive: parameter "connection" is given more than once/ ],
    [ 'REST: a literal ttl out of range',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_all ttl=301;',
      qr/"webpubsub_rest" directive: parameter "ttl" must be a whole number of seconds from 0 to 300/ ],
    [ 'REST: an unknown literal permission',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest grant_permission connection=$arg_c permission=admin;',
      qr/"webpubsub_rest" directive: parameter "permission" must be "sendToGroup" or "joinLeaveGroup"/ ],
    [ 'REST: a literal group of white space',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest group_exists "group=  ";',
      qr/"webpubsub_rest" directive: parameter "group" must not be only white space/ ],
    [ 'REST: no webpubsub_rest_pass',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest health;',
      qr/"webpubsub_rest" directive has no webpubsub_rest_pass configured in \S+:\d+/ ],
    [ 'REST: no service',
      'webpubsub_hub chat;',
      'webpubsub_rest_pass /_wps/; webpubsub_rest health;',
      qr/"webpubsub_rest" directive has no webpubsub_endpoint or webpubsub_connection_string configured/ ],
    [ 'REST: no hub',
      "webpubsub_connection_string \"$CS\";",
      'webpubsub_rest_pass /_wps/; webpubsub_rest send_to_all;',
      qr/"webpubsub_rest" directive has no webpubsub_hub configured/ ],
    [ 'REST: health needs no hub',
      "webpubsub_connection_string \"$CS\";",
      'webpubsub_rest_pass /_wps/; webpubsub_rest health;'
      . ' location /_wps/ { internal; proxy_pass http://127.0.0.1:1; }', undef ],
    [ 'REST: rest_pass that is not a URI',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass _wps; webpubsub_rest health;',
      qr/"webpubsub_rest_pass" directive: "_wps" is not a URI that starts with "\/"/ ],
    [ 'REST: rest_pass with a query',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps?a=b; webpubsub_rest health;',
      qr/"webpubsub_rest_pass" directive: "\/_wps\?a=b" must not have a query/ ],
    [ 'REST: two operations in a location',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_rest_pass /_wps/; webpubsub_rest health; webpubsub_rest health;',
      qr/"webpubsub_rest" directive is duplicate/ ],
    [ 'REST: every operation with its parameters',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat; webpubsub_rest_pass /_wps/;",
      'location /a { webpubsub_rest send_to_all excluded=$arg_a excluded=b filter=$arg_f ttl=$arg_t; }'
      . ' location /b { webpubsub_rest send_to_user user=$arg_u filter=f ttl=0; }'
      . ' location /c { webpubsub_rest send_to_group group=$arg_g excluded=x filter=y ttl=300; }'
      . ' location /d { webpubsub_rest send_to_connection connection=$arg_c ttl=5; }'
      . ' location /e { webpubsub_rest add_user_to_group user=u group=g; }'
      . ' location /f { webpubsub_rest remove_user_from_group user=u group=g; }'
      . ' location /g { webpubsub_rest add_connection_to_group connection=c group=g; }'
      . ' location /h { webpubsub_rest remove_connection_from_group connection=c group=g; }'
      . ' location /i { webpubsub_rest remove_connection_from_all_groups connection=c; }'
      . ' location /j { webpubsub_rest remove_user_from_all_groups user=u; }'
      . ' location /k { webpubsub_rest add_connections_to_groups group=a group=b filter=f; }'
      . ' location /l { webpubsub_rest remove_connections_from_groups group=a; }'
      . ' location /m { webpubsub_rest list_connections group=g max_page_size=200 top=5; }'
      . ' location /n { webpubsub_rest connection_exists connection=c; }'
      . ' location /o { webpubsub_rest user_exists user=u; }'
      . ' location /p { webpubsub_rest group_exists group=g; }'
      . ' location /q { webpubsub_rest close_connection connection=c reason=r; }'
      . ' location /r { webpubsub_rest close_all_connections excluded=a reason=r; }'
      . ' location /s { webpubsub_rest close_user_connections user=u excluded=a reason=r; }'
      . ' location /t { webpubsub_rest close_group_connections group=g excluded=a reason=r; }'
      . ' location /u { webpubsub_rest grant_permission connection=c permission=sendToGroup target=g; }'
      . ' location /v { webpubsub_rest revoke_permission connection=c permission=joinLeaveGroup; }'
      . ' location /w { webpubsub_rest check_permission connection=c permission=$arg_p target=g; }'
      . ' location /x { webpubsub_rest generate_client_token user=u role=a role=b group=g group=h ttl_minutes=5 protocol=mqtt; }'
      . ' location /y { webpubsub_rest health; }'
      . ' location /_wps/ { internal; proxy_pass http://127.0.0.1:1; }', undef ],
);

$t->plan(3 * @cases);

for my $c (@cases) {
    my ($name, $http, $loc, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_location($http, $loc), $want);
}

$t->done();
