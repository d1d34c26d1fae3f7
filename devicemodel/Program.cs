using XenVnvdimm.DeviceModel.Cli;

return CommandTable.Dispatch(args);
