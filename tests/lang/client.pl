# SPDX-License-Identifier: MIT
# Sends a line to 127.0.0.1:PORT and prints the answer.
use strict;
use warnings;
use IO::Socket::INET;

my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0])
	or die "connect: $!";
print $s "from perl\n";
my $line = <$s>;
print $line;
close($s);
