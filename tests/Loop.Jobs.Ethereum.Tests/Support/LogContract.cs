using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.RPC.Eth.Transactions;

namespace Loop.Jobs.Ethereum.Tests;

/// <summary>
/// A minimal contract deployed by the test: a call's first two 32-byte words become the log's two topics and the rest
/// of the call data its data (<c>LOG2</c>). Hand-assembled, so the tests need no compiler.
/// </summary>
public sealed class LogContract
{
    // Runtime: PUSH1 0x20 CALLDATALOAD (topic 1); PUSH1 0 CALLDATALOAD (topic 0); PUSH1 0x40 CALLDATASIZE SUB (size);
    // DUP1 PUSH1 0x40 PUSH1 0 CALLDATACOPY (memory[0..size] = calldata[64..]); PUSH1 0 LOG2; STOP.
    private const string Runtime = "602035600035604036038060406000376000a200";

    // Init: PUSH1 len DUP1 PUSH1 offset PUSH1 0 CODECOPY PUSH1 0 RETURN, followed by the runtime.
    private const string Init = "601480600b6000396000f3";

    private readonly IClient _rpc;
    private readonly string _from;

    private LogContract(IClient rpc, string from, string address)
    {
        _rpc = rpc;
        _from = from;
        Address = address;
    }

    public string Address { get; }

    public static async Task<LogContract> DeployAsync(Ganache chain)
    {
        var rpc = new RpcClient(chain.HttpUrl);
        var receipt = await SendAsync(rpc, new TransactionInput { From = chain.Account, Data = "0x" + Init + Runtime, Gas = new HexBigInteger(200_000) });
        receipt.Status.Value.Should().Be(1, "the contract deploys");
        return new LogContract(rpc, chain.Account, receipt.ContractAddress.ToLowerInvariant());
    }

    /// <summary>Emits a log with the two topics and <paramref name="data"/>; returns the receipt (its block, the log).</summary>
    public async Task<TransactionReceipt> EmitAsync(string topic0, string topic1, byte[] data)
    {
        var input = "0x" + topic0.RemoveHexPrefix() + topic1.RemoveHexPrefix() + Convert.ToHexStringLower(data);
        var receipt = await SendAsync(_rpc, new TransactionInput { From = _from, To = Address, Data = input, Gas = new HexBigInteger(200_000) });
        receipt.Status.Value.Should().Be(1, "the log is emitted");
        receipt.Logs.Should().HaveCount(1);
        return receipt;
    }

    /// <summary>Emits a <see cref="RunRequest"/> for <paramref name="jobId"/> with <paramref name="data"/> as its request data.</summary>
    public Task<TransactionReceipt> RequestRunAsync(string jobId, byte[] data) =>
        EmitAsync(RunRequest.EventTopic, RunRequest.JobTopic(jobId), new Nethereum.ABI.ABIEncode().GetABIEncoded(new Nethereum.ABI.ABIValue("address", _from), new Nethereum.ABI.ABIValue("bytes", data)));

    // The node mines a block per transaction (instamine), so the receipt is there when the send returns.
    private static async Task<TransactionReceipt> SendAsync(IClient rpc, TransactionInput transaction)
    {
        var hash = await new EthSendTransaction(rpc).SendRequestAsync(transaction);
        return await new EthGetTransactionReceipt(rpc).SendRequestAsync(hash) ?? throw new InvalidOperationException($"no receipt for {hash}");
    }

    public static string Topic(int value) => "0x" + value.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);
}
