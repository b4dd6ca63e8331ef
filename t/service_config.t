#!/usr/bin/perl

# Configuration errors of the shared service configuration (connection
# string, endpoint, access keys and key files, hub): nginx -t fails with one
# [emerg] line that names the directive and the problem; good
# configurations pass.  Those of each feature are in negotiate_config.t,
# event_config.t and rest_config.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use POSIX qw(mkfifo);
use Test::More;
use Time::HiRes qw(time);
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->write_file('empty.key', "\n");
$t->write_file('good.key', "k\n");
$t->write_file('bom.key', "\xEF\xBB\xBFabc\n");
$t->write_file('two.key', "key-one\n\nkey-two\n");
$t->write_file('blank-first.key', "\r\nabc\n");
$t->write_file('cs.key',
    "Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;\n");
$t->write_file('cs-lower.key', "endpoint =https://x.example\n");
$t->write_file('trailing-blank.key', "abc \r\n\n \t\n");
$t->write_file('shared.key', "k\n");

# modes as a careful user sets them: only shared.key is readable by others
chmod 0600, map { $t->testdir() . "/$_" }
    qw(empty.key good.key bom.key two.key blank-first.key cs.key
       cs-lower.key trailing-blank.key);
chmod 0644, $t->testdir() . '/shared.key';

my $FIFO = $t->testdir() . '/fifo.key';
mkfifo($FIFO, 0600) or die "mkfifo $FIFO: $!\n";

my $CLIENT = 'a client URL as endpoint, not the resource\'s origin';
my $HTTPS = 'but Azure Web PubSub needs https';
my $QUOTE = 'nginx ends a directive at the first ";", so quote the whole'
    . ' connection string';

my $CS = 'Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;';

# [ name, http-level lines, location lines, expected error (regex) or undef ]
my @cases = (
    [ 'connection string without Endpoint',
      'webpubsub_connection_string "AccessKey=abc;Version=1.0;";', '',
      qr/"webpubsub_connection_string" directive has no Endpoint/ ],
    [ 'connection string with an empty Endpoint',
      'webpubsub_connection_string "Endpoint=;AccessKey=abc";', '',
      qr/"webpubsub_connection_string" directive has no Endpoint/ ],
    [ 'connection string without AccessKey (key-less) and no credential',
      'webpubsub_connection_string "Endpoint=http://h;Version=1.0;"; webpubsub_hub h;',
      'webpubsub_token;',
      qr/has an endpoint \(set in \S+:\d+\) but no webpubsub_access_key, webpubsub_access_key_file or webpubsub_credential on the same level/ ],
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
    [ 'an endpoint alone on a level inherits no key',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_endpoint http://other.example; webpubsub_token;',
      qr/"webpubsub_token" directive has an endpoint \(set in \S+:\d+\) but no webpubsub_access_key, webpubsub_access_key_file or webpubsub_credential on the same level/ ],
    [ 'a key alone on a level inherits no endpoint',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;",
      'webpubsub_access_key other-key; webpubsub_token;',
      qr/"webpubsub_token" directive has an access key \(set in \S+:\d+\) but no webpubsub_endpoint on the same level/ ],
    [ 'endpoint with a dot segment',
      'webpubsub_endpoint http://h/a/../b; webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has an endpoint with a "." or ".." path segment/ ],
    [ 'static hub that does not start with a letter',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub 1chat;", '',
      qr/"webpubsub_hub" directive: hub name "1chat" does not start with a letter/ ],
    [ 'static hub with a bad character',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub ch-at;", '',
      qr/"webpubsub_hub" directive: hub name "ch-at" has a character other than/ ],
    [ 'static hub of 129 characters',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub " . ('h' x 129) . ';',
      '', qr/"webpubsub_hub" directive: hub name "h+" is longer than 128 characters/ ],

    # the client URL given for the endpoint
    [ 'client URL as endpoint',
      'webpubsub_endpoint https://x.webpubsub.azure.com/client/hubs/chat;'
      . ' webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has \Q$CLIENT\E: use "https:\/\/x\.webpubsub\.azure\.com" in \S+:\d+$/m ],
    [ 'client URL with its scheme and token as endpoint',
      'webpubsub_endpoint "WSS://X.WebPubSub.Azure.com/client/hubs/chat?access_token=eyJh.eyJ.sig";'
      . ' webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has \Q$CLIENT\E: use "https:\/\/x\.webpubsub\.azure\.com" in \S+:\d+$/m ],
    [ 'MQTT client URL behind a proxy path in a connection string',
      'webpubsub_connection_string "Endpoint=http://127.0.0.1:8080/wps/clients/mqtt/hubs/chat;AccessKey=abc;Version=1.0;";',
      '', qr/"webpubsub_connection_string" directive has \Q$CLIENT\E: use "http:\/\/127\.0\.0\.1:8080\/wps" in /m ],
    [ 'Socket.IO client path as endpoint',
      'webpubsub_endpoint https://x.webpubsub.azure.com/clients/socketio/hubs/;'
      . ' webpubsub_access_key a;', '',
      qr/"webpubsub_endpoint" directive has \Q$CLIENT\E: use "https:\/\/x\.webpubsub\.azure\.com" in /m ],

    # Azure Web PubSub without TLS
    [ 'http endpoint on Azure Web PubSub',
      'webpubsub_endpoint http://x.webpubsub.azure.com; webpubsub_access_key a;',
      '', qr/"webpubsub_endpoint" directive has an http endpoint, \Q$HTTPS\E: use "https:\/\/x\.webpubsub\.azure\.com" in /m ],
    [ 'http Endpoint on Azure Web PubSub, any case, in a connection string',
      'webpubsub_connection_string "Endpoint=HTTP://Contoso.WEBPUBSUB.Azure.COM;AccessKey=abc;Version=1.0;";',
      '', qr/"webpubsub_connection_string" directive has an http endpoint, \Q$HTTPS\E: use "https:\/\/contoso\.webpubsub\.azure\.com" in /m ],
    [ 'ws endpoint on Azure Web PubSub in China',
      'webpubsub_endpoint ws://x.webpubsub.azure.cn; webpubsub_access_key a;',
      '', qr/"webpubsub_endpoint" directive has a ws endpoint, \Q$HTTPS\E: use "https:\/\/x\.webpubsub\.azure\.cn" in /m ],
    [ 'http endpoint on an absolute Azure host name',
      'webpubsub_endpoint http://x.webpubsub.azure.com.:80/; webpubsub_access_key a;',
      '', qr/"webpubsub_endpoint" directive has an http endpoint, \Q$HTTPS\E: use "https:\/\/x\.webpubsub\.azure\.com\." in /m ],

    # key files
    [ 'key file with a byte order mark',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/bom.key;',
      '', qr/"webpubsub_access_key_file" directive: "\S+\/bom\.key" starts with a UTF-8 byte order mark, save it without one in / ],
    [ 'key file with two keys',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/two.key;',
      '', qr/"webpubsub_access_key_file" directive: "\S+\/two\.key" has a second line of text, but a key file holds one key: give each key a file of its own in / ],
    [ 'key file with the key on its second line',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/blank-first.key;',
      '', qr/"webpubsub_access_key_file" directive: "\S+\/blank-first\.key" starts with an empty line, put the key on the first line in / ],
    [ 'key file with a whole connection string',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/cs.key;',
      '', qr/"webpubsub_access_key_file" directive: "\S+\/cs\.key" holds a connection string, not a key: put only the AccessKey value in it, or give the whole string to webpubsub_connection_string in / ],
    [ 'key file with a lower-case Endpoint pair',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/cs-lower.key;',
      '', qr/"webpubsub_access_key_file" directive: "\S+\/cs-lower\.key" holds a connection string, not a key/ ],

    # the connection string that nginx cut at its first ";"
    [ 'unquoted connection string',
      'webpubsub_connection_string Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;',
      '', qr/^(?:nginx|angie): \[emerg\] "webpubsub_connection_string" directive has no AccessKey: \Q$QUOTE (one without a key ends in ";Version=1.0")\E in \S+:\d+$/m ],
    [ 'unquoted connection string, AccessKey first',
      'webpubsub_connection_string AccessKey=abc;Endpoint=https://x.webpubsub.azure.com;Version=1.0;',
      '', qr/^(?:nginx|angie): \[emerg\] "webpubsub_connection_string" directive has no Endpoint: \Q$QUOTE\E in \S+:\d+$/m ],

    # configurations that must pass
    [ 'a local stand-in over http, and paths that are no client paths',
      'webpubsub_endpoint http://127.0.0.1:8080/client/; webpubsub_access_key a;'
      . ' webpubsub_hub chat;',
      'location /a { webpubsub_endpoint http://x.webpubsub.azure.com.example/clients/;'
      . ' webpubsub_access_key a; webpubsub_token; }'
      . ' location /b { webpubsub_endpoint HTTPS://X.WEBPUBSUB.AZURE.COM;'
      . ' webpubsub_access_key a; webpubsub_token; }'
      . ' location /c { webpubsub_endpoint http://localhost:8080/my-client/hubs/;'
      . ' webpubsub_access_key a; webpubsub_token; }', undef ],
    [ 'a key file with white space after the key',
      'webpubsub_endpoint http://h; webpubsub_access_key_file %%TESTDIR%%/trailing-blank.key;',
      '', undef ],
    [ 'endpoint with several keys and a key file',
      'webpubsub_endpoint https://x.webpubsub.azure.com; webpubsub_hub $arg_h;'
      . ' webpubsub_access_key a; webpubsub_access_key_file %%TESTDIR%%/good.key;',
      'webpubsub_token;', undef ],
    [ 'a connection string with an empty AccessKey',
      'webpubsub_connection_string "Endpoint=https://x.webpubsub.azure.com;AccessKey=;Version=1.0";',
      '', qr/"webpubsub_connection_string" directive has an empty AccessKey: give the key, or leave AccessKey out for a resource without keys \(webpubsub_credential\)/ ],
    [ 'a key-less connection string with a credential',
      'webpubsub_connection_string "Endpoint=https://x.webpubsub.azure.com;Version=1.0;";'
      . ' webpubsub_credential managed_identity; webpubsub_credential_pass /_id;'
      . ' webpubsub_hub h;',
      'webpubsub_rest send_to_all; webpubsub_rest_pass /_wps; } location = /_wps {'
      . ' internal; proxy_pass https://127.0.0.1:9; } location = /_id {'
      . ' internal; proxy_pass http://169.254.169.254;', undef ],
    [ 'a hub with variables is checked per request, not here',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub \$arg_hub;",
      'webpubsub_token;', undef ],
);

$t->plan(3 * @cases + 10);

for my $c (@cases) {
    my ($name, $http, $loc, $want) = @$c;
    $t->nginx_t_case($name, $t->conf_location($http, $loc), $want);
}

# A FIFO as key file: refused at once.  Opening it for reading used to
# wait for a writer, and "nginx -t" with it; the harness kills nginx -t
# after 30 s, the bound of this wait.
{
    my $start = time();
    my ($code, $out) = eval {
        $t->nginx_t($t->conf_location("webpubsub_endpoint http://h;"
            . " webpubsub_access_key_file $FIFO;", ''));
    };
    my $took = time() - $start;

    ok(defined $code && $took < 5,
        sprintf('FIFO key file: nginx -t returns at once (%.1f s)', $took))
        or diag($@);
    isnt($code // 0, 0, 'FIFO key file: nginx -t fails');
    like($out // '', qr/^(?:nginx|angie): \[emerg\] "webpubsub_access_key_file" directive: "\Q$FIFO\E" is not a regular file of at most 65536 bytes but a FIFO in \S+:\d+$/m,
        'FIFO key file: the message says it is a FIFO');
}

# A key file others can read: used, with a warning.
{
    my ($code, $out) = $t->nginx_t($t->conf_location('webpubsub_endpoint http://h;'
        . ' webpubsub_access_key_file %%TESTDIR%%/shared.key;'
        . ' webpubsub_hub chat;', 'webpubsub_token;'));

    is($code, 0, 'key file readable by others: nginx -t passes')
        or diag($out);
    like($out, qr/^(?:nginx|angie): \[warn\] "webpubsub_access_key_file" directive: "\S+\/shared\.key" is readable by every user of this host, restrict it with "chmod 600" or "chmod 640" in \S+:\d+$/m,
        'key file readable by others: a warning says to chmod it');
    like($out, qr/test is successful/,
        'key file readable by others: test is successful');
}

# The other half of a service, named where it was set: the line the
# message names holds that directive.
for my $c (
    [ 'an endpoint without a key', 'webpubsub_token',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;\n"
      . "    server { listen 127.0.0.1:%%PORT_1%%; location / {\n"
      . "        webpubsub_endpoint http://other.example;\n"
      . "        webpubsub_token; } }",
      qr/has an endpoint \(set in (\S+):(\d+)\) but no webpubsub_access_key/,
      qr/^\s*webpubsub_endpoint http:\/\/other\.example;$/ ],
    [ 'a key without an endpoint', 'webpubsub_rest',
      "webpubsub_connection_string \"$CS\"; webpubsub_hub chat;\n"
      . "    webpubsub_rest_pass /_wps/;\n"
      . "    server { listen 127.0.0.1:%%PORT_1%%; location / {\n"
      . "        webpubsub_access_key_file %%TESTDIR%%/good.key;\n"
      . "        webpubsub_access_key second;\n"
      . "        webpubsub_rest health; } }",
      qr/has an access key \(set in (\S+):(\d+)\) but no webpubsub_endpoint/,
      qr/^\s*webpubsub_access_key_file \S+\/good\.key;$/ ],
) {
    my ($name, $directive, $http, $re, $line_re) = @$c;

    my ($code, $out) = $t->nginx_t($t->conf_location($http, ''));
    my ($file, $line) = $out =~ $re;

    like($out,
        qr/^(?:nginx|angie): \[emerg\] "$directive" directive $re.* on the same level in \S+:\d+$/m,
        "$name: the $directive message names file:line");

    my @lines = defined $file && -f $file
        ? split(/\n/, do { local (@ARGV, $/) = ($file); <> }) : ();
    like($lines[($line // 1) - 1] // '', $line_re,
        "$name: that line is the one that set it");
}

$t->done();
