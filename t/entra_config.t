#!/usr/bin/perl

# Configuration errors of Microsoft Entra ID authentication
# (webpubsub_credential, webpubsub_credential_pass, webpubsub_event_auth,
# webpubsub_event_auth_pass): nginx -t fails with one [emerg] line that
# says what is wrong, as the module words it; a secret file others can
# read passes with a warning; every credential type, correctly written,
# passes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;
use WebPubSub::Identity;

# what the credentials read from the environment nginx starts with
delete @ENV{qw(AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_FEDERATED_TOKEN_FILE
               AZURE_AUTHORITY_HOST IDENTITY_ENDPOINT IDENTITY_HEADER)};

my $t = WebPubSub::Nginx->new();
my $dir = $t->testdir();

$t->write_file('good.secret', "s3cret-value\n");
$t->write_file('two.secret', "first\nsecond\n");
$t->write_file('empty.secret', "\n");
$t->write_file('shared.secret', "s3cret-value\n");
$t->write_file('federated.jwt', "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n");
$t->write_file('text.pem', "this is not a PEM file\n");

my $cc = WebPubSub::Identity::client_cert($t, 'client');
my $other = WebPubSub::Identity::client_cert($t, 'other');
$t->write_file('cert-only.pem', $t->read_file($cc->{cert}));
$t->write_file('mismatch.pem',
    $t->read_file($cc->{cert}) . $t->read_file($other->{key}));
system('openssl', 'pkey', '-in', $cc->{key}, '-aes256', '-passout',
    'pass:secret', '-out', "$dir/encrypted.key") == 0
    or die "openssl pkey failed\n";
$t->write_file('encrypted.pem',
    $t->read_file($cc->{cert}) . $t->read_file("$dir/encrypted.key"));

chmod 0600, map { "$dir/$_" } qw(good.secret two.secret empty.secret
    federated.jwt text.pem cert-only.pem mismatch.pem encrypted.pem),
    $cc->{pem};
chmod 0644, "$dir/shared.secret";

my $TENANT = '7e1b5c3a-4d2f-4a8b-9c6e-0f1a2b3c4d5e';
my $CLIENT = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

# A whole configuration: $http at http level after an endpoint (unless
# $o{no_endpoint}), a server with the internal locations and $server.
sub conf {
    my ($http, $server, %o) = @_;
    my $endpoint = $o{no_endpoint} ? ''
        : 'webpubsub_endpoint http://127.0.0.1:9;';
    return <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    webpubsub_hub chat;
    $endpoint
    $http
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location = /_identity { internal; proxy_pass http://127.0.0.1:9; }
        location = /_wps { internal; proxy_pass http://127.0.0.1:9; }
        location = /_keys { internal; proxy_pass http://127.0.0.1:9; }
        location = /open { proxy_pass http://127.0.0.1:9; }
        location = /bare { internal; }
        $server
    }
}
EOF
}

# a credential that is used: by a REST call and by negotiate
my $PASSES = 'webpubsub_credential_pass /_identity; webpubsub_rest_pass /_wps;';
my $USE = 'location = /send { webpubsub_rest send_to_all; }'
    . ' location = /negotiate { webpubsub_token; }';

sub cred {
    my ($args) = @_;
    return conf("webpubsub_credential $args; $PASSES", $USE);
}

my $CRED = '"webpubsub_credential" directive';
my $SECRET = "client_secret tenant_id=$TENANT client_id=$CLIENT";
my $CERT = "client_certificate tenant_id=$TENANT client_id=$CLIENT";
my $HANDLER = 'location /eventhandler/ { webpubsub_event_handler on;'
    . ' proxy_pass http://127.0.0.1:9; }';
my $EVENT_AUTH = "webpubsub_event_auth entra tenant_id=$TENANT"
    . ' audience=api://events';

# [ name, configuration, expected [emerg] (a regex) or undef ]
my @cases = (

    # the directive itself

    [ 'unknown type', cred('managed_identities'),
      qr/$CRED: unknown type "managed_identities", it must be "managed_identity", "workload_identity", "client_secret" or "client_certificate" in \S+:\d+$/m ],
    [ 'unknown parameter', cred('managed_identity colour=blue'),
      qr/$CRED: unknown parameter "colour" in \S+:\d+$/m ],
    [ 'duplicate parameter', cred('managed_identity client_id=a client_id=b'),
      qr/$CRED: parameter "client_id" is duplicate in \S+:\d+$/m ],
    [ 'parameter of another type (tenant_id for a managed identity)',
      cred("managed_identity tenant_id=$TENANT"),
      qr/$CRED: parameter "tenant_id" does not apply to managed_identity in \S+:\d+$/m ],
    [ 'parameter of another type (token_file for a client secret)',
      cred("$SECRET secret_file=$dir/good.secret token_file=$dir/federated.jwt"),
      qr/$CRED: parameter "token_file" does not apply to client_secret in \S+:\d+$/m ],
    [ 'parameter of another type (secret_file for a certificate)',
      cred("$CERT certificate_file=$cc->{pem} secret_file=$dir/good.secret"),
      qr/$CRED: parameter "secret_file" does not apply to client_certificate in \S+:\d+$/m ],
    [ 'parameter without a value', cred('managed_identity client_id'),
      qr/$CRED: "client_id" is not name=value in \S+:\d+$/m ],
    [ 'parameter with an empty value', cred('managed_identity client_id='),
      qr/$CRED: "client_id=" is not name=value in \S+:\d+$/m ],
    [ 'parameter with an empty name', cred('managed_identity =x'),
      qr/$CRED: "=x" is not name=value in \S+:\d+$/m ],
    [ 'two credentials on a level',
      conf("webpubsub_credential managed_identity;"
           . " webpubsub_credential managed_identity; $PASSES", $USE),
      qr/$CRED is duplicate: this level already has a credential in \S+:\d+$/m ],
    [ 'managed identity named twice',
      cred('managed_identity client_id=a object_id=b'),
      qr/$CRED takes one of client_id, object_id and resource_id in \S+:\d+$/m ],
    [ 'managed identity endpoint not http(s)',
      cred('managed_identity endpoint=ftp://127.0.0.1/token'),
      qr{$CRED: identity endpoint "ftp://127\.0\.0\.1/token" is not an http:// or https:// URL in \S+:\d+$}m ],
    [ 'managed identity endpoint without a path',
      cred('managed_identity endpoint=http://127.0.0.1:9'),
      qr{$CRED: identity endpoint "http://127\.0\.0\.1:9" has no path in \S+:\d+$}m ],
    [ 'scope not ending in /.default',
      cred('managed_identity scope=https://webpubsub.azure.com'),
      qr{$CRED: scope "https://webpubsub\.azure\.com" does not end in "/\.default" in \S+:\d+$}m ],
    [ 'scope that is only /.default', cred('managed_identity scope=/.default'),
      qr{$CRED: scope "/\.default" does not end in "/\.default"}m ],

    # client_secret

    [ 'client secret without tenant_id',
      cred("client_secret client_id=$CLIENT secret_file=$dir/good.secret"),
      qr/$CRED needs tenant_id= and client_id= in \S+:\d+$/m ],
    [ 'client secret without client_id',
      cred("client_secret tenant_id=$TENANT secret_file=$dir/good.secret"),
      qr/$CRED needs tenant_id= and client_id= in \S+:\d+$/m ],
    [ 'client secret without secret_file', cred($SECRET),
      qr/$CRED needs secret_file= in \S+:\d+$/m ],
    [ 'client secret file missing',
      cred("$SECRET secret_file=$dir/missing.secret"),
      qr/$CRED cannot open "\Q$dir\E\/missing\.secret" \(2: No such file or directory\) in \S+:\d+$/m ],
    [ 'client secret file of two lines',
      cred("$SECRET secret_file=$dir/two.secret"),
      qr/$CRED: "\Q$dir\E\/two\.secret" must hold the client secret on one line in \S+:\d+$/m ],
    [ 'client secret file that is empty',
      cred("$SECRET secret_file=$dir/empty.secret"),
      qr/$CRED: "\Q$dir\E\/empty\.secret" is empty in \S+:\d+$/m ],
    [ 'client secret file that is a directory',
      cred("$SECRET secret_file=$dir"),
      qr/$CRED: "\Q$dir\E" is not a regular file of at most \d+ bytes but a directory in \S+:\d+$/m ],
    [ 'authority not https',
      cred("$SECRET secret_file=$dir/good.secret"
           . ' authority=http://login.example/'),
      qr{$CRED: authority "http://login\.example/" is not an https:// URL in \S+:\d+$}m ],
    [ 'authority that is no URL',
      cred("$SECRET secret_file=$dir/good.secret authority=login.example"),
      qr{$CRED: authority "login\.example" is not an https:// URL}m ],

    # client_certificate

    [ 'certificate without certificate_file', cred($CERT),
      qr/$CRED needs certificate_file= in \S+:\d+$/m ],
    [ 'certificate file missing',
      cred("$CERT certificate_file=$dir/missing.pem"),
      qr/$CRED cannot open "\Q$dir\E\/missing\.pem" \(2: No such file or directory\)/m ],
    [ 'certificate file that is not PEM',
      cred("$CERT certificate_file=$dir/text.pem"),
      qr/$CRED: "\Q$dir\E\/text\.pem": the certificate file holds no PEM certificate in \S+:\d+$/m ],
    [ 'certificate without its key',
      cred("$CERT certificate_file=$dir/cert-only.pem"),
      qr/$CRED: "\Q$dir\E\/cert-only\.pem": the certificate file holds no unencrypted private key in \S+:\d+$/m ],
    [ 'certificate with another key',
      cred("$CERT certificate_file=$dir/mismatch.pem"),
      qr/$CRED: "\Q$dir\E\/mismatch\.pem": the private key is not the certificate's in \S+:\d+$/m ],
    [ 'certificate with an encrypted key',
      cred("$CERT certificate_file=$dir/encrypted.pem"),
      qr/$CRED: "\Q$dir\E\/encrypted\.pem": the certificate file holds no unencrypted private key in \S+:\d+$/m ],
    [ 'certificate without tenant_id',
      cred("client_certificate client_id=$CLIENT certificate_file=$cc->{pem}"),
      qr/$CRED needs tenant_id= and client_id= in \S+:\d+$/m ],

    # workload_identity with nothing in the environment

    [ 'workload identity without client id',
      cred('workload_identity'),
      qr/$CRED needs AZURE_CLIENT_ID: it is not in the environment nginx was started with, and the directive has no client_id= in \S+:\d+$/m ],
    [ 'workload identity without tenant id',
      cred("workload_identity client_id=$CLIENT"),
      qr/$CRED needs AZURE_TENANT_ID: it is not in the environment nginx was started with, and the directive has no tenant_id= in \S+:\d+$/m ],
    [ 'workload identity without token file',
      cred("workload_identity client_id=$CLIENT tenant_id=$TENANT"),
      qr/$CRED needs AZURE_FEDERATED_TOKEN_FILE: it is not in the environment nginx was started with, and the directive has no token_file= in \S+:\d+$/m ],
    [ 'workload identity with an http authority',
      cred("workload_identity client_id=$CLIENT tenant_id=$TENANT"
           . " token_file=$dir/federated.jwt authority=http://login.example/"),
      qr{$CRED: authority "http://login\.example/" is not an https:// URL}m ],

    # the service around it

    [ 'an access key and a credential on one level',
      conf('webpubsub_access_key abc; webpubsub_credential managed_identity;'
           . " $PASSES", $USE),
      qr/has both an access key and a webpubsub_credential on the same level: a resource has one or the other, keep one in \S+:\d+$/m ],
    [ 'a connection string with a key and a credential on one level',
      conf('webpubsub_connection_string'
           . ' "Endpoint=http://127.0.0.1:9;AccessKey=abc;Version=1.0;";'
           . " webpubsub_credential managed_identity; $PASSES", $USE,
           no_endpoint => 1),
      qr/has both an access key and a webpubsub_credential on the same level: a resource has one or the other, keep one/m ],
    [ 'a credential without an endpoint',
      conf("webpubsub_credential managed_identity; $PASSES", $USE,
           no_endpoint => 1),
      qr/has a webpubsub_credential \(set in \S+:\d+\) but no webpubsub_endpoint on the same level in \S+:\d+$/m ],
    [ 'a credential inherits no endpoint',
      conf($PASSES, 'location = /x { webpubsub_credential managed_identity;'
           . ' webpubsub_rest send_to_all; }', no_endpoint => 0),
      qr/"webpubsub_rest" directive has a webpubsub_credential \(set in \S+:\d+\) but no webpubsub_endpoint on the same level/m ],
    [ 'a credential used without webpubsub_credential_pass',
      conf('webpubsub_credential managed_identity; webpubsub_rest_pass /_wps;',
           $USE),
      qr/has a webpubsub_credential but no webpubsub_credential_pass configured in \S+:\d+$/m ],
    [ 'webpubsub_credential_pass to no location',
      conf('webpubsub_credential managed_identity;'
           . ' webpubsub_credential_pass /_nowhere; webpubsub_rest_pass /_wps;',
           $USE),
      qr{webpubsub_credential_pass "/_nowhere" \(for the directive in \S+:\d+\): its server has no location of that name: add one, internal, with proxy_pass$}m ],
    [ 'webpubsub_credential_pass to a location that is not internal',
      conf('webpubsub_credential managed_identity;'
           . ' webpubsub_credential_pass /open; webpubsub_rest_pass /_wps;',
           $USE),
      qr{webpubsub_credential_pass "/open" \(for the directive in \S+:\d+\): that location is not internal: add "internal;" to it}m ],
    [ 'webpubsub_credential_pass to a location without proxy_pass',
      conf('webpubsub_credential managed_identity;'
           . ' webpubsub_credential_pass /bare; webpubsub_rest_pass /_wps;',
           $USE),
      qr{webpubsub_credential_pass "/bare" \(for the directive in \S+:\d+\): that location has no proxy_pass: add one}m ],
    [ 'webpubsub_credential_pass not a URI',
      conf('webpubsub_credential managed_identity;'
           . ' webpubsub_credential_pass _identity; webpubsub_rest_pass /_wps;',
           $USE),
      qr{"webpubsub_credential_pass" directive: "_identity" is not a URI that starts with "/"}m ],
    [ 'webpubsub_token with a credential but no webpubsub_rest_pass',
      conf('webpubsub_credential managed_identity;'
           . ' webpubsub_credential_pass /_identity;',
           'location = /negotiate { webpubsub_token; }'),
      qr{"webpubsub_token" directive in \S+:\d+ has a webpubsub_credential and no access key, so the service makes its tokens: add webpubsub_rest_pass and its internal location}m ],

    # webpubsub_event_auth

    [ 'event auth of an unknown type',
      conf('webpubsub_access_key abc;', $HANDLER
           . ' webpubsub_event_auth saml;'),
      qr/"webpubsub_event_auth" directive: unknown type "saml", it must be "entra" or "off" in \S+:\d+$/m ],
    [ 'event auth without tenant_id',
      conf('', 'webpubsub_event_auth entra audience=api://events;'
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr/"webpubsub_event_auth" directive needs tenant_id= and audience= \(the application ID URI of the event handler's managed identity authentication\) in \S+:\d+$/m ],
    [ 'event auth without audience',
      conf('', "webpubsub_event_auth entra tenant_id=$TENANT;"
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr/"webpubsub_event_auth" directive needs tenant_id= and audience=/m ],
    [ 'event auth with an unknown parameter',
      conf('', "$EVENT_AUTH colour=blue;"
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr/"webpubsub_event_auth" directive: unknown or duplicate parameter "colour" in \S+:\d+$/m ],
    [ 'event auth with a duplicate parameter',
      conf('', "$EVENT_AUTH audience=api://other;"
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr/"webpubsub_event_auth" directive: unknown or duplicate parameter "audience"/m ],
    [ 'event auth parameter not name=value',
      conf('', "$EVENT_AUTH object_id;"
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr/"webpubsub_event_auth" directive: "object_id" is not name=value/m ],
    [ 'event auth with an http authority',
      conf('', "$EVENT_AUTH authority=http://login.example/;"
           . ' webpubsub_event_auth_pass /_keys;' . $HANDLER),
      qr{"webpubsub_event_auth" directive: authority "http://login\.example/" is not an https:// URL in \S+:\d+$}m ],
    [ 'event handler with event auth but no webpubsub_event_auth_pass',
      conf('', "$EVENT_AUTH; $HANDLER"),
      qr/"webpubsub_event_handler" is on with webpubsub_event_auth but no webpubsub_event_auth_pass configured in \S+:\d+$/m ],
    [ 'event handler with neither keys nor event auth',
      conf('', $HANDLER),
      qr/"webpubsub_event_handler" is on with no webpubsub_access_key, webpubsub_access_key_file, webpubsub_connection_string or webpubsub_event_auth configured in \S+:\d+$/m ],
    [ 'webpubsub_event_auth_pass to a location that is not internal',
      conf('', "$EVENT_AUTH; webpubsub_event_auth_pass /open; $HANDLER"),
      qr{webpubsub_event_auth_pass "/open" \(for the directive in \S+:\d+\): that location is not internal}m ],
    [ 'webpubsub_event_auth_pass to no location',
      conf('', "$EVENT_AUTH; webpubsub_event_auth_pass /_none; $HANDLER"),
      qr{webpubsub_event_auth_pass "/_none" \(for the directive in \S+:\d+\): its server has no location of that name}m ],
    [ 'webpubsub_event_auth off turns an inherited one off',
      conf("$EVENT_AUTH; webpubsub_event_auth_pass /_keys;",
           'location /eventhandler/ { webpubsub_event_auth off;'
           . ' webpubsub_event_handler on; proxy_pass http://127.0.0.1:9; }'),
      qr/"webpubsub_event_handler" is on with no webpubsub_access_key, webpubsub_access_key_file, webpubsub_connection_string or webpubsub_event_auth configured/m ],
    [ 'webpubsub_event_auth off with parameters',
      conf('', "webpubsub_event_auth off tenant_id=$TENANT; $HANDLER"),
      qr/"webpubsub_event_auth" directive takes no parameters after "off" in \S+:\d+$/m ],

    # good configurations

    [ 'managed identity (IMDS, system-assigned)', cred('managed_identity') ],
    [ 'managed identity by client_id', cred("managed_identity client_id=$CLIENT") ],
    [ 'managed identity by object_id', cred("managed_identity object_id=$CLIENT") ],
    [ 'managed identity by resource_id',
      cred('managed_identity resource_id=/subscriptions/0/resourceGroups/rg/'
           . 'providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1') ],
    [ 'managed identity with an endpoint',
      cred('managed_identity'
           . ' endpoint=http://127.0.0.1:9/metadata/identity/oauth2/token') ],
    [ 'managed identity with a scope',
      cred('managed_identity scope=https://webpubsub.azure.com/.default') ],
    [ 'workload identity with parameters',
      cred("workload_identity client_id=$CLIENT tenant_id=$TENANT"
           . " token_file=$dir/federated.jwt") ],
    [ 'client secret', cred("$SECRET secret_file=$dir/good.secret") ],
    [ 'client secret with an authority',
      cred("$SECRET secret_file=$dir/good.secret"
           . ' authority=https://login.microsoftonline.us/') ],
    [ 'client certificate', cred("$CERT certificate_file=$cc->{pem}") ],
    [ 'a key-less connection string with a credential',
      conf('webpubsub_connection_string "Endpoint=http://127.0.0.1:9;Version=1.0;";'
           . " webpubsub_credential managed_identity; $PASSES", $USE,
           no_endpoint => 1) ],
    [ 'event auth',
      conf('', "$EVENT_AUTH object_id=$CLIENT"
           . ' authority=https://login.microsoftonline.com/;'
           . " webpubsub_event_auth_pass /_keys; $HANDLER") ],
    [ 'event auth turned off where an access key is',
      conf("$EVENT_AUTH; webpubsub_event_auth_pass /_keys;",
           'location /eventhandler/ { webpubsub_event_auth off;'
           . ' webpubsub_connection_string'
           . ' "Endpoint=http://127.0.0.1:9;AccessKey=abc;Version=1.0;";'
           . ' webpubsub_event_handler on;'
           . ' proxy_pass http://127.0.0.1:9; }') ],
    [ 'a credential that is not used needs no pass',
      conf('webpubsub_credential managed_identity;', '') ],
);

$t->plan(3 * @cases + 3 + 3 + 3 + 3);

for my $c (@cases) {
    my ($name, $conf, $want) = @$c;
    $t->nginx_t_case($name, $conf, $want);
}

# a secret file others can read: used, with a warning
{
    my ($code, $out) = $t->nginx_t(cred("$SECRET secret_file=$dir/shared.secret"));
    is($code, 0, 'secret file readable by others: nginx -t passes')
        or diag($out);
    like($out, qr/^(?:nginx|angie): \[warn\] $CRED: "\Q$dir\E\/shared\.secret" is readable by every user of this host, restrict it with "chmod 600" or "chmod 640" in \S+:\d+$/m,
        'secret file readable by others: a warning says to chmod it');
    like($out, qr/test is successful/,
        'secret file readable by others: test is successful');
}

# the environment nginx starts with
{
    local $ENV{AZURE_CLIENT_ID} = $CLIENT;
    local $ENV{AZURE_TENANT_ID} = $TENANT;
    local $ENV{AZURE_FEDERATED_TOKEN_FILE} = "$dir/federated.jwt";
    local $ENV{AZURE_AUTHORITY_HOST} = 'https://login.microsoftonline.us/';
    $t->nginx_t_case('workload identity from the environment',
        cred('workload_identity'));
}

{
    local $ENV{AZURE_CLIENT_ID} = $CLIENT;
    local $ENV{AZURE_TENANT_ID} = $TENANT;
    local $ENV{AZURE_FEDERATED_TOKEN_FILE} = "$dir/federated.jwt";
    local $ENV{AZURE_AUTHORITY_HOST} = 'http://login.example/';
    $t->nginx_t_case('workload identity, AZURE_AUTHORITY_HOST not https',
        cred('workload_identity'),
        qr{$CRED: authority "http://login\.example/" is not an https:// URL}m);
}

{
    local $ENV{IDENTITY_ENDPOINT} = 'http://127.0.0.1:9/msi/token';
    local $ENV{IDENTITY_HEADER} = 'header-of-the-tests';
    $t->nginx_t_case('managed identity on App Service (IDENTITY_ENDPOINT)',
        cred('managed_identity'));
}

$t->done();
