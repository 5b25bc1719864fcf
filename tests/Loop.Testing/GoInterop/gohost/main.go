// A Go LOOP host for Loop's interop tests: it launches the plugin named by its first argument with
// hashicorp/go-plugin (Debian's 1.0.1), calls Echo.Say("hello") and prints "reply: <text> <calls>".
// Further arguments go to the plugin. Set LOOP_INTEROP_AUTOMTLS=1 to ask for AutoMTLS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	echo "loopinterop/echo"
)

type echoPlugin struct{ plugin.Plugin }

func (p *echoPlugin) GRPCServer(broker *plugin.GRPCBroker, server *grpc.Server) error { return nil }

func (p *echoPlugin) GRPCClient(ctx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return echo.NewEchoClient(conn), nil
}

func run() int {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "LOOP_SAMPLE_PLUGIN",
			MagicCookieValue: "a3d5e9c1-loop-sample",
		},
		Plugins:          map[string]plugin.Plugin{"echo": &echoPlugin{}},
		Cmd:              exec.Command(os.Args[1], os.Args[2:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         os.Getenv("LOOP_INTEROP_AUTOMTLS") == "1",
	})
	// Kill before returning: os.Exit would skip a deferred Kill and orphan the plugin.
	defer client.Kill()

	rpc, err := client.Client()
	if err != nil {
		fmt.Println("error: client:", err)
		return 1
	}
	raw, err := rpc.Dispense("echo")
	if err != nil {
		fmt.Println("error: dispense:", err)
		return 1
	}
	reply, err := raw.(echo.EchoClient).Say(context.Background(), &echo.EchoRequest{Text: "hello"})
	if err != nil {
		fmt.Println("error: say:", err)
		return 1
	}
	fmt.Printf("reply: %s %d\n", reply.Text, reply.Calls)
	return 0
}

func main() {
	code := run()
	os.Exit(code)
}
